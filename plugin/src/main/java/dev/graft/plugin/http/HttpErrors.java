package dev.graft.plugin.http;

import dev.graft.onnx.GraftException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one place where errors become HTTP responses: {@link GraftException.Code} to status, and the
 * two error body shapes (DJL's {@code {"code","type","message"}} for management and {@code
 * /predictions}, KServe v2's {@code {"error"}} under {@code /v2}). Anything that is not a {@link
 * GraftException} is a bug: 500, logged.
 */
public final class HttpErrors {
  private static final Logger LOG = Logger.getLogger(HttpErrors.class.getName());

  private HttpErrors() {}

  /** The HTTP status of an error code. */
  public static HttpResponseStatus status(GraftException.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT, FAILED_PRECONDITION -> HttpResponseStatus.BAD_REQUEST;
      case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
      case ALREADY_EXISTS -> HttpResponseStatus.CONFLICT;
      case TOO_LARGE -> HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
      case UNAVAILABLE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
      case INTERNAL -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
    };
  }

  /** The {@code type} field of a DJL error body. */
  static String type(HttpResponseStatus status) {
    return switch (status.code()) {
      case 400 -> "BadRequestException";
      case 401 -> "UnauthorizedException";
      case 404 -> "NotFoundException";
      case 405 -> "MethodNotAllowedException";
      case 409 -> "ConflictException";
      case 413 -> "PayloadTooLargeException";
      case 503 -> "ServiceUnavailableException";
      default -> "InternalServerException";
    };
  }

  /** The reply for a failure while answering {@code path}. */
  public static HttpReply reply(String path, Throwable failure) {
    if (failure instanceof GraftException g) {
      if (g.code() == GraftException.Code.INTERNAL) {
        LOG.log(Level.WARNING, "Internal error on " + path, g);
      }
      return reply(path, status(g.code()), g.getMessage());
    }
    LOG.log(Level.SEVERE, "Unexpected failure on " + path, failure);
    return reply(path, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + failure);
  }

  /** An error reply with an explicit status (routing errors: 404 path, 405 method). */
  public static HttpReply reply(String path, HttpResponseStatus status, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    if (path.startsWith("/v2/") || path.equals("/v2")) {
      body.put("error", message);
    } else {
      body.put("code", status.code());
      body.put("type", type(status));
      body.put("message", message);
    }
    return HttpReply.json(status, body);
  }
}
