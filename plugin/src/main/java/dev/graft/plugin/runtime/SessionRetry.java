package dev.graft.plugin.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.logging.Logger;

/**
 * Repeats a session build that ONNX Runtime 1.29 failed with its transient logging error.
 *
 * <p>Under patch churn (sessions built on one thread while others are closed on other threads)
 * about one run in five of the integration churn test saw a build fail with "Attempt to use
 * DefaultLogger but none has been registered", although the environment stays open for the life of
 * the process; the same build succeeds when repeated. Only that message is retried, at most twice;
 * every other failure is reported at once.
 */
final class SessionRetry {
  private static final Logger LOG = Logger.getLogger(SessionRetry.class.getName());
  private static final int ATTEMPTS = 3;

  /** One session build. */
  interface Build {
    OrtSession create() throws OrtException;
  }

  private SessionRetry() {}

  static OrtSession create(Build build) throws OrtException {
    for (int attempt = 1; ; attempt++) {
      try {
        return build.create();
      } catch (OrtException e) {
        String message = e.getMessage();
        if (attempt >= ATTEMPTS || message == null || !message.contains("DefaultLogger")) {
          throw e;
        }
        LOG.warning("ONNX Runtime session build failed transiently (" + message + "), retrying");
      }
    }
  }
}
