package dev.graft.plugin.config;

import dev.graft.onnx.GraftException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The plugin's effective configuration: defaults, overridden by the DJL-style {@code
 * config.properties} the host read, overridden by environment variables {@code SERVING_<KEY>}.
 *
 * <p>Immutable and thread safe. There is no process-wide instance: the request handler builds one
 * and passes it to everything that needs it, so tests can run several handlers side by side.
 */
public final class GraftConfig {
  /** System property naming the config file the host read (set by the Graft host). */
  public static final String CONFIG_FILE_PROPERTY = "graft.config.file";

  /** Read when {@link #CONFIG_FILE_PROPERTY} is unset, if it exists (relative to the work dir). */
  public static final Path FALLBACK_CONFIG = Path.of("config", "config.properties");

  public static final String MODEL_STORE = "model_store";
  public static final String LOAD_MODELS = "load_models";
  public static final String MAX_REQUEST_SIZE = "max_request_size";
  public static final String MODEL_URL_PATTERN = "model_url_pattern";
  public static final String EXECUTOR_THREADS = "graft.executor.threads";
  public static final String EXECUTOR_QUEUE = "graft.executor.queue";
  public static final String CONTROL_THREADS = "graft.control.threads";
  public static final String CONTROL_QUEUE = "graft.control.queue";
  public static final String GRPC_ADDRESS = "grpc_address";
  public static final String VARIANTS_MAX = "graft.variants.max";

  /** Where the KServe v2 gRPC service listens unless configured otherwise (host:port). */
  public static final String DEFAULT_GRPC_ADDRESS = "127.0.0.1:8082";

  public static final String PYTORCH_CACHE_DIR = "graft.pytorch.cache_dir";
  public static final String WEIGHT_CACHE = "graft.weight_cache";

  /**
   * Where ONNX models' memory-mapped weight files go unless told otherwise: {@code graft-weights}
   * in the temporary folder. Each loaded model writes a private subfolder and deletes it when
   * unloaded.
   */
  public static final Path DEFAULT_WEIGHT_CACHE =
      Path.of(System.getProperty("java.io.tmpdir"), "graft-weights");

  /**
   * Where DJL extracts the PyTorch native library unless told otherwise (see docs/torchscript.md).
   */
  public static final String DEFAULT_PYTORCH_CACHE_DIR = "work/djl-cache";

  private static final String ENV_PREFIX = "SERVING_";
  private static final long DEFAULT_MAX_REQUEST_SIZE = 64L * 1024 * 1024;

  private final Map<String, String> properties;
  private final Path modelStore;
  private final List<String> loadModels;
  private final long maxRequestSize;
  private final Pattern modelUrlPattern;
  private final int executorThreads;
  private final int executorQueue;
  private final int controlThreads;
  private final int controlQueue;
  private final Optional<String> grpcAddress;
  private final int variantsMax;
  private final Path pytorchCacheDir;
  private final Path weightCache;

  private GraftConfig(Map<String, String> raw, Path workDir) {
    this.properties = Collections.unmodifiableMap(new TreeMap<>(raw));
    this.modelStore =
        workDir.resolve(raw.getOrDefault(MODEL_STORE, "model-store")).toAbsolutePath().normalize();
    this.loadModels = parseList(raw.getOrDefault(LOAD_MODELS, ""));
    this.maxRequestSize = positive(raw, MAX_REQUEST_SIZE, DEFAULT_MAX_REQUEST_SIZE);
    this.modelUrlPattern = pattern(raw.get(MODEL_URL_PATTERN));
    this.executorThreads = (int) Math.min(positive(raw, EXECUTOR_THREADS, 4), 1024);
    this.executorQueue = (int) Math.min(positive(raw, EXECUTOR_QUEUE, 256), 1 << 20);
    this.controlThreads = (int) Math.min(positive(raw, CONTROL_THREADS, 2), 64);
    this.controlQueue = (int) Math.min(positive(raw, CONTROL_QUEUE, 64), 1 << 16);
    this.grpcAddress =
        Optional.ofNullable(raw.get(GRPC_ADDRESS)).map(String::trim).filter(s -> !s.isEmpty());
    this.variantsMax = (int) Math.min(positive(raw, VARIANTS_MAX, 4), 1024);
    this.pytorchCacheDir =
        workDir
            .resolve(raw.getOrDefault(PYTORCH_CACHE_DIR, DEFAULT_PYTORCH_CACHE_DIR))
            .toAbsolutePath()
            .normalize();
    this.weightCache =
        raw.containsKey(WEIGHT_CACHE)
            ? workDir.resolve(raw.get(WEIGHT_CACHE)).toAbsolutePath().normalize()
            : DEFAULT_WEIGHT_CACHE;
  }

  /**
   * The configuration of this process: the file named by the system property {@value
   * #CONFIG_FILE_PROPERTY}, else {@link #FALLBACK_CONFIG} if present, else defaults; then the
   * {@code SERVING_*} environment variables. Relative paths resolve against the working directory.
   */
  public static GraftConfig fromEnvironment() {
    Path workDir = Path.of("").toAbsolutePath();
    String named = System.getProperty(CONFIG_FILE_PROPERTY);
    Path file = null;
    if (named != null && !named.isBlank()) {
      file = workDir.resolve(named);
    } else if (Files.isRegularFile(workDir.resolve(FALLBACK_CONFIG))) {
      file = workDir.resolve(FALLBACK_CONFIG);
    }
    return load(file, System.getenv(), workDir);
  }

  /**
   * Reads {@code file} (may be {@code null}: defaults only) and applies {@code SERVING_<KEY>}
   * entries of {@code env}.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when the file cannot be read or a value does
   *     not parse
   */
  public static GraftConfig load(Path file, Map<String, String> env, Path workDir) {
    Map<String, String> raw = new TreeMap<>();
    if (file != null) {
      raw.putAll(readProperties(file));
    }
    env.forEach(
        (name, value) -> {
          if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
            raw.put(name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT), value.trim());
          }
        });
    raw.putIfAbsent(GRPC_ADDRESS, DEFAULT_GRPC_ADDRESS);
    return new GraftConfig(raw, workDir.toAbsolutePath());
  }

  /**
   * A configuration from explicit values (tests, embedding). Absent keys take their defaults,
   * except {@value #GRPC_ADDRESS}: gRPC is served only when the values name an address, so that
   * tests can start handlers side by side without fighting over the default port.
   */
  public static GraftConfig of(Map<String, String> values, Path workDir) {
    return new GraftConfig(values, workDir.toAbsolutePath());
  }

  /** Reads a properties file into a sorted map with trimmed keys and values. */
  public static Map<String, String> readProperties(Path file) {
    Properties props = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(reader);
    } catch (IOException | IllegalArgumentException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, "cannot read " + file + ": " + e.getMessage(), e);
    }
    Map<String, String> values = new TreeMap<>();
    for (String key : props.stringPropertyNames()) {
      values.put(key.trim(), props.getProperty(key).trim());
    }
    return values;
  }

  /** Absolute, normalised folder that model and adapter paths are confined to. */
  public Path modelStore() {
    return modelStore;
  }

  /** Whether {@code load_models=ALL}: every model folder of the store is loaded at start-up. */
  public boolean loadAllModels() {
    return loadModels.size() == 1 && "ALL".equalsIgnoreCase(loadModels.get(0));
  }

  /** The {@code load_models} entries (folder names, or {@code name=folder}); empty for none. */
  public List<String> loadModels() {
    return loadAllModels() ? List.of() : loadModels;
  }

  /** The largest request body the plugin accepts, in bytes. */
  public long maxRequestSize() {
    return maxRequestSize;
  }

  /** The pattern a model or adapter URL outside the store must match to be accepted. */
  public Optional<Pattern> modelUrlPattern() {
    return Optional.ofNullable(modelUrlPattern);
  }

  public int executorThreads() {
    return executorThreads;
  }

  public int executorQueue() {
    return executorQueue;
  }

  /** Threads for everything but inference: management, metadata, health, metrics. */
  public int controlThreads() {
    return controlThreads;
  }

  public int controlQueue() {
    return controlQueue;
  }

  /**
   * Where the KServe v2 gRPC service listens ({@value #GRPC_ADDRESS}, {@code host:port}, port 0 for
   * any free port; {@value #DEFAULT_GRPC_ADDRESS} when read from a file or the environment); empty
   * when gRPC is off (an empty value, or {@link #of} without the key).
   */
  public Optional<String> grpcAddress() {
    return grpcAddress;
  }

  /** How many per-request weight variants a model keeps ({@value #VARIANTS_MAX}, default 4). */
  public int variantsMax() {
    return variantsMax;
  }

  /**
   * The folder DJL extracts the PyTorch native library into ({@value #PYTORCH_CACHE_DIR}, default
   * {@value #DEFAULT_PYTORCH_CACHE_DIR} under the working directory). The environment's {@code
   * ENGINE_CACHE_DIR} or {@code DJL_CACHE_DIR}, when set, take precedence.
   */
  public Path pytorchCacheDir() {
    return pytorchCacheDir;
  }

  /**
   * The folder under which ONNX models write the external data files their base weights are
   * memory-mapped from ({@value #WEIGHT_CACHE}, default {@link #DEFAULT_WEIGHT_CACHE}).
   */
  public Path weightCache() {
    return weightCache;
  }

  /** Every effective key and value (as given; paths not resolved). */
  public Map<String, String> properties() {
    return properties;
  }

  private static List<String> parseList(String text) {
    return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private static long positive(Map<String, String> raw, String key, long fallback) {
    String text = raw.get(key);
    if (text == null || text.isEmpty()) {
      return fallback;
    }
    try {
      long value = Long.parseLong(text);
      if (value > 0) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw GraftException.invalid("%s must be a positive integer, got '%s'", key, text);
  }

  private static Pattern pattern(String regex) {
    if (regex == null || regex.isEmpty()) {
      return null;
    }
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw GraftException.invalid(
          "%s is not a valid regular expression: %s", MODEL_URL_PATTERN, e.getDescription());
    }
  }

  @Override
  public String toString() {
    Map<String, String> shown = new TreeMap<>(properties);
    shown.computeIfPresent("management_token", (k, v) -> "<redacted>");
    return "GraftConfig" + shown + " (model store " + modelStore + ")";
  }
}
