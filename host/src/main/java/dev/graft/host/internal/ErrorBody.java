package dev.graft.host.internal;

import com.google.gson.JsonObject;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;

/**
 * The error body every host error carries: {@code {"code": int, "type": "...", "message": "..."}}.
 *
 * @param code the HTTP status code
 * @param type the simple name of the exception (or exception kind) behind the error
 * @param message a human-readable explanation
 */
public record ErrorBody(int code, String type, String message) {

  /** Status codes for exception types a plugin future may fail with, by simple class name. */
  private static final Map<String, Integer> STATUS_BY_TYPE =
      Map.of(
          "BadRequestException", 400,
          "ResourceNotFoundException", 404,
          "ModelNotFoundException", 404,
          "MethodNotAllowedException", 405,
          "ConflictException", 409,
          "ServiceUnavailableException", 503);

  /** The host's answer for a request no handler owns. */
  public static ErrorBody notFound() {
    return new ErrorBody(
        404,
        "ResourceNotFoundException",
        "Requested resource is not found, please refer to API document.");
  }

  /** A 500 for an exception a plugin threw, whatever its type. */
  public static ErrorBody internal(Throwable thrown) {
    return new ErrorBody(500, typeOf(thrown), messageOf(thrown));
  }

  /**
   * Maps the failure of a plugin's future: {@link CompletionException} and {@link
   * ExecutionException} are unwrapped; {@code IllegalArgumentException} and {@code
   * BadRequestException} give 400, {@code ResourceNotFoundException}, {@code
   * ModelNotFoundException} and {@code NoSuchElementException} 404, {@code
   * MethodNotAllowedException} 405, {@code ConflictException} 409, {@code
   * ServiceUnavailableException} and {@code RejectedExecutionException} 503 (the DJL Serving names
   * match by simple class name, so plugins need no host type); anything else 500.
   */
  public static ErrorBody fromFailure(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return new ErrorBody(statusOf(cause), typeOf(cause), messageOf(cause));
  }

  private static int statusOf(Throwable cause) {
    if (cause instanceof IllegalArgumentException) {
      return 400;
    }
    if (cause instanceof NoSuchElementException) {
      return 404;
    }
    if (cause instanceof RejectedExecutionException) {
      return 503;
    }
    for (Class<?> c = cause.getClass(); c != null; c = c.getSuperclass()) {
      Integer status = STATUS_BY_TYPE.get(c.getSimpleName());
      if (status != null) {
        return status;
      }
    }
    return 500;
  }

  private static String typeOf(Throwable t) {
    String simple = t.getClass().getSimpleName();
    return simple.isEmpty() ? t.getClass().getName() : simple;
  }

  private static String messageOf(Throwable t) {
    return t.getMessage() != null ? t.getMessage() : typeOf(t);
  }

  /** The body as compact JSON, keys in the order code, type, message. */
  public String toJson() {
    JsonObject json = new JsonObject();
    json.addProperty("code", code);
    json.addProperty("type", type);
    json.addProperty("message", message);
    return json.toString();
  }
}
