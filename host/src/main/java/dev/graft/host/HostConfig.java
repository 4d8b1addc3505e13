package dev.graft.host;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The host's effective configuration: built-in defaults, overridden by a DJL-style {@code
 * config.properties}, overridden in turn by environment variables {@code SERVING_<KEY>} (the key in
 * upper case, e.g. {@code SERVING_INFERENCE_ADDRESS} for {@code inference_address}).
 *
 * <p>Every key is kept, including keys the host does not know; a {@code SERVING_*} variable adds
 * its lower-cased key even when the file does not have it. The path keys {@code model_store} and
 * {@code plugin_folder} are resolved against the working directory given to {@link #load}, so
 * {@link #properties()} holds them as absolute paths.
 *
 * <p>Immutable and thread-safe. There is no process-wide instance: whoever starts a host passes
 * one.
 */
public final class HostConfig {

  public static final String INFERENCE_ADDRESS = "inference_address";
  public static final String MANAGEMENT_ADDRESS = "management_address";
  public static final String MODEL_STORE = "model_store";
  public static final String LOAD_MODELS = "load_models";
  public static final String PLUGIN_FOLDER = "plugin_folder";
  public static final String MAX_REQUEST_SIZE = "max_request_size";
  public static final String MODEL_URL_PATTERN = "model_url_pattern";
  public static final String GRPC_ADDRESS = "grpc_address";

  /** Prefix of the environment variables that override keys. */
  public static final String ENV_PREFIX = "SERVING_";

  private static final String DEFAULT_ADDRESS = "http://127.0.0.1:8080";
  private static final int DEFAULT_MAX_REQUEST_SIZE = 64 * 1024 * 1024;

  private final Optional<Path> configFile;
  private final Map<String, String> properties;
  private final BindAddress inferenceAddress;
  private final BindAddress managementAddress;
  private final Path modelStore;
  private final Path pluginFolder;
  private final int maxRequestSize;

  private HostConfig(Optional<Path> configFile, Map<String, String> raw, Path workDir)
      throws ConfigException {
    this.configFile = configFile;
    Map<String, String> effective = new TreeMap<>(raw);
    effective.putIfAbsent(INFERENCE_ADDRESS, DEFAULT_ADDRESS);
    effective.putIfAbsent(MANAGEMENT_ADDRESS, effective.get(INFERENCE_ADDRESS));
    effective.putIfAbsent(MODEL_STORE, "model-store");
    effective.putIfAbsent(PLUGIN_FOLDER, "plugins");
    effective.putIfAbsent(MAX_REQUEST_SIZE, Integer.toString(DEFAULT_MAX_REQUEST_SIZE));
    effective.putIfAbsent(GRPC_ADDRESS, "127.0.0.1:8082");

    this.inferenceAddress = address(effective, INFERENCE_ADDRESS);
    this.managementAddress = address(effective, MANAGEMENT_ADDRESS);
    this.modelStore = path(effective, MODEL_STORE, workDir);
    this.pluginFolder = path(effective, PLUGIN_FOLDER, workDir);
    this.maxRequestSize = positiveInt(effective, MAX_REQUEST_SIZE);
    effective.put(MODEL_STORE, modelStore.toString());
    effective.put(PLUGIN_FOLDER, pluginFolder.toString());
    this.properties = Collections.unmodifiableMap(effective);
  }

  /**
   * Reads the configuration.
   *
   * @param configFile the {@code config.properties} to read, or {@code null} for defaults only; a
   *     relative path is resolved against {@code workDir}
   * @param env the environment, usually {@code System.getenv()}
   * @param workDir the directory relative paths are resolved against
   * @throws ConfigException when the file cannot be read or a value does not parse
   */
  public static HostConfig load(Path configFile, Map<String, String> env, Path workDir)
      throws ConfigException {
    Path base = workDir.toAbsolutePath().normalize();
    Map<String, String> raw = new TreeMap<>();
    Optional<Path> file = Optional.empty();
    if (configFile != null) {
      Path absolute = base.resolve(configFile).normalize();
      raw.putAll(read(absolute));
      file = Optional.of(absolute);
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      String name = e.getKey();
      if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
        raw.put(name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT), e.getValue().trim());
      }
    }
    return new HostConfig(file, raw, base);
  }

  private static Map<String, String> read(Path file) throws ConfigException {
    Properties props = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(reader);
    } catch (NoSuchFileException e) {
      throw new ConfigException("Cannot read config file " + file + ": no such file", e);
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException("Cannot read config file " + file + ": " + e, e);
    }
    Map<String, String> values = new TreeMap<>();
    for (String key : props.stringPropertyNames()) {
      values.put(key.trim(), props.getProperty(key).trim());
    }
    return values;
  }

  private static BindAddress address(Map<String, String> values, String key)
      throws ConfigException {
    try {
      return BindAddress.parse(values.get(key));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("Invalid " + key + ": " + e.getMessage(), e);
    }
  }

  private static Path path(Map<String, String> values, String key, Path workDir)
      throws ConfigException {
    try {
      return workDir.resolve(values.get(key)).normalize();
    } catch (InvalidPathException e) {
      throw new ConfigException("Invalid " + key + ": " + e.getMessage(), e);
    }
  }

  private static int positiveInt(Map<String, String> values, String key) throws ConfigException {
    String text = values.get(key);
    try {
      int value = Integer.parseInt(text);
      if (value > 0) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ConfigException(
        "Invalid " + key + ": expected a positive integer up to 2147483647, got '" + text + "'");
  }

  /** The absolute path of the file that was read, if any. */
  public Optional<Path> configFile() {
    return configFile;
  }

  /** Every effective key and value, sorted by key; path keys are absolute. */
  public Map<String, String> properties() {
    return properties;
  }

  /** The effective value of {@code key}, verbatim (trimmed). */
  public Optional<String> get(String key) {
    return Optional.ofNullable(properties.get(key));
  }

  public BindAddress inferenceAddress() {
    return inferenceAddress;
  }

  public BindAddress managementAddress() {
    return managementAddress;
  }

  /** Whether inference and management share one connector (the default). */
  public boolean sharedConnector() {
    return inferenceAddress.equals(managementAddress);
  }

  public Path modelStore() {
    return modelStore;
  }

  public Path pluginFolder() {
    return pluginFolder;
  }

  /** The largest request (headers excluded) the host aggregates, in bytes. */
  public int maxRequestSize() {
    return maxRequestSize;
  }

  @Override
  public String toString() {
    return "HostConfig" + configFile.map(f -> "[" + f + "]").orElse("[defaults]") + properties;
  }
}
