package dev.graft.onnx;

/**
 * The one error type of Graft: a {@link Code} saying what kind of failure it is, a message meant
 * for the user, and an optional cause. Front ends map the code to an HTTP status, a gRPC status or
 * a process exit code, each in one place.
 */
public class GraftException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, independent of the protocol that reports it. */
  public enum Code {
    /** The caller sent something malformed or inconsistent (HTTP 400, exit 2). */
    INVALID_ARGUMENT,
    /** A named model, adapter, head or file does not exist (HTTP 404, exit 2). */
    NOT_FOUND,
    /** The name is taken (HTTP 409, exit 2). */
    ALREADY_EXISTS,
    /**
     * The request is well formed but does not fit the target, e.g. another architecture (HTTP 400).
     */
    FAILED_PRECONDITION,
    /** The request or a declared size is larger than allowed (HTTP 413). */
    TOO_LARGE,
    /** Over capacity or shutting down; retrying later may work (HTTP 503). */
    UNAVAILABLE,
    /** A bug or an environment failure, not the caller's fault (HTTP 500, exit 1). */
    INTERNAL
  }

  private final Code code;

  public GraftException(Code code, String message) {
    this(code, message, null);
  }

  public GraftException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Code code() {
    return code;
  }

  public static GraftException invalid(String format, Object... args) {
    return new GraftException(Code.INVALID_ARGUMENT, String.format(format, args));
  }

  public static GraftException notFound(String format, Object... args) {
    return new GraftException(Code.NOT_FOUND, String.format(format, args));
  }

  public static GraftException precondition(String format, Object... args) {
    return new GraftException(Code.FAILED_PRECONDITION, String.format(format, args));
  }
}
