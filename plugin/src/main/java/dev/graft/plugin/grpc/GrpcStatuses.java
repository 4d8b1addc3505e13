package dev.graft.plugin.grpc;

import dev.graft.onnx.GraftException;
import io.grpc.Status;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one place where errors become gRPC statuses ({@code http.HttpErrors} is its HTTP twin).
 * Anything that is not a {@link GraftException} is a bug: {@code INTERNAL}, logged.
 */
public final class GrpcStatuses {
  private static final Logger LOG = Logger.getLogger(GrpcStatuses.class.getName());

  private GrpcStatuses() {}

  /** The status code of an error code. */
  public static Status.Code code(GraftException.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
      case FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
      case NOT_FOUND -> Status.Code.NOT_FOUND;
      case ALREADY_EXISTS -> Status.Code.ALREADY_EXISTS;
      case TOO_LARGE -> Status.Code.RESOURCE_EXHAUSTED;
      case UNAVAILABLE -> Status.Code.UNAVAILABLE;
      case INTERNAL -> Status.Code.INTERNAL;
    };
  }

  /** The status a failure answers a call with. */
  public static Status of(Throwable failure, String method) {
    if (failure instanceof GraftException g) {
      if (g.code() == GraftException.Code.INTERNAL) {
        LOG.log(Level.WARNING, "Internal error in " + method, g);
      }
      return Status.fromCode(code(g.code())).withDescription(g.getMessage());
    }
    LOG.log(Level.SEVERE, "Unexpected failure in " + method, failure);
    return Status.INTERNAL.withDescription("internal error: " + failure);
  }
}
