package dev.graft.plugin.state;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.GraftConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * How model state is kept, from {@code config.properties} (or {@code SERVING_GRAFT_STATE...}).
 *
 * <ul>
 *   <li>{@code graft.state}: {@code manifest} (default: {@code graft.json} per model, replayed at
 *       start-up, shared by replicas) or {@code memory} (nothing written; a restart serves the base
 *       models, e.g. for a read-only model store).
 *   <li>{@code graft.state.poll_ms}: how often every manifest is re-read (default 1000); file watch
 *       events trigger earlier reads where the file system delivers them.
 *   <li>{@code graft.state.watch}: {@code true} (default) to also react to file-system events;
 *       {@code false} relies on the poll alone, as on a network file system.
 *   <li>{@code graft.state.lock_timeout_ms}: how long a change waits for the manifest's lock
 *       (default 10000) before answering 503.
 *   <li>{@code graft.state.writer}: this process's writer id in manifests (default {@code
 *       host/pid/random}).
 * </ul>
 *
 * @param durable whether manifests are read and written
 * @param writer this process's id in the manifests it writes
 * @param maxBytes the largest signature file read back ({@code max_request_size})
 * @param pollInterval the period of the manifest check
 * @param watch whether file-system events trigger checks too
 * @param lockTimeout the longest wait for a manifest's lock
 */
public record StateSettings(
    boolean durable,
    String writer,
    long maxBytes,
    Duration pollInterval,
    boolean watch,
    Duration lockTimeout) {

  public static final String MODE = "graft.state";
  public static final String POLL_MS = "graft.state.poll_ms";
  public static final String WATCH = "graft.state.watch";
  public static final String LOCK_TIMEOUT_MS = "graft.state.lock_timeout_ms";
  public static final String WRITER = "graft.state.writer";

  /**
   * The settings of a configuration.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for a value that does not parse
   */
  public static StateSettings of(GraftConfig config) {
    Map<String, String> p = config.properties();
    String mode = p.getOrDefault(MODE, "manifest").trim().toLowerCase(Locale.ROOT);
    if (!mode.equals("manifest") && !mode.equals("memory")) {
      throw GraftException.invalid("%s must be manifest or memory, got '%s'", MODE, mode);
    }
    String writer = p.getOrDefault(WRITER, "").trim();
    return new StateSettings(
        mode.equals("manifest"),
        writer.isEmpty() ? defaultWriter() : writer,
        config.maxRequestSize(),
        Duration.ofMillis(millis(p, POLL_MS, 1000)),
        !"false".equalsIgnoreCase(p.getOrDefault(WATCH, "true").trim()),
        Duration.ofMillis(millis(p, LOCK_TIMEOUT_MS, 10_000)));
  }

  private static long millis(Map<String, String> p, String key, long fallback) {
    String text = p.get(key);
    if (text == null || text.isBlank()) {
      return fallback;
    }
    try {
      long v = Long.parseLong(text.trim());
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw GraftException.invalid(
        "%s must be a positive number of milliseconds, got '%s'", key, text);
  }

  /** {@code host/pid/random}: unique per process, readable in a manifest. */
  static String defaultWriter() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "unknown-host";
    }
    long pid = ProcessHandle.current().pid();
    String random = UUID.randomUUID().toString().substring(0, 8);
    return host + "/" + pid + "/" + random;
  }
}
