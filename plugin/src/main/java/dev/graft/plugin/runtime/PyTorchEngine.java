package dev.graft.plugin.runtime;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelSettings;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The gate to DJL's PyTorch engine, which is optional: its jars ({@code ai.djl:api}, {@code
 * pytorch-engine}, {@code pytorch-jni}, {@code pytorch-native-cpu} and their dependencies) sit in
 * {@code plugin_folder} beside the plugin jar, or they do not. This class references no DJL type;
 * the runtime that does ({@code runtime.pytorch.PtModelRuntime}) is loaded reflectively and only
 * once the engine's classes are known to be there, so an ONNX-only deployment never links against
 * DJL and answers {@code engine=PyTorch} with a 400.
 *
 * <p>Before the engine first loads, {@link #open} makes it offline: DJL reads its switches from the
 * environment or system properties, process-wide, so this sets the system properties {@code
 * ai.djl.offline=true} and {@code OPT_OUT_TRACKING=true}, and {@code ENGINE_CACHE_DIR} (where the
 * native library is extracted on first start) to the configured folder. It also passes the engine
 * options of {@code config.properties}: {@code graft.pytorch.graph_optimizer} (default {@code
 * false}: TorchScript's profiling executor makes the first hundred or so requests erratic, and DJL
 * advises against it for inference), {@code graft.pytorch.num_threads} and {@code
 * graft.pytorch.num_interop_threads} (default: PyTorch's). A switch already set in the environment
 * or as a system property is left alone; the first model to start the engine fixes them for the
 * process. Thread safe.
 */
public final class PyTorchEngine {
  private static final Logger LOG = Logger.getLogger(PyTorchEngine.class.getName());

  /** A class of {@code pytorch-engine}: present exactly when the engine is installed. */
  static final String ENGINE_CLASS = "ai.djl.pytorch.engine.PtEngine";

  static final String OPENER_CLASS = "dev.graft.plugin.runtime.pytorch.PtModelOpener";

  public static final String GRAPH_OPTIMIZER = "graft.pytorch.graph_optimizer";
  public static final String NUM_THREADS = "graft.pytorch.num_threads";
  public static final String NUM_INTEROP_THREADS = "graft.pytorch.num_interop_threads";

  /** Opens a TorchScript model; implemented next to the DJL code. */
  public interface Opener {
    /**
     * Loads {@code file} on the PyTorch engine.
     *
     * @param base the weights read from the same file; the engine's parameters must equal them
     * @throws GraftException {@code INVALID_ARGUMENT} when the engine cannot load the file, {@code
     *     FAILED_PRECONDITION} when its parameters differ from {@code base}
     */
    ModelRuntime open(String name, Path file, ModelSettings.Io io, ModelWeights base);
  }

  private final String engineClass;
  private final Path cacheDir;
  private final Map<String, String> options;
  private final Function<String, String> env;
  private final Function<String, String> properties;

  /**
   * @param engineClass the class whose presence means the engine is installed
   * @param options DJL system properties to set (unless already set)
   * @param env looks up environment variables
   * @param properties looks up system properties
   */
  PyTorchEngine(
      String engineClass,
      Path cacheDir,
      Map<String, String> options,
      Function<String, String> env,
      Function<String, String> properties) {
    this.engineClass = engineClass;
    this.cacheDir = cacheDir;
    this.options = Map.copyOf(options);
    this.env = env;
    this.properties = properties;
  }

  /**
   * The engine as configured: the native-library cache of {@link GraftConfig#pytorchCacheDir} and
   * the {@code graft.pytorch.*} engine options.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for an option that does not parse
   */
  public static PyTorchEngine of(GraftConfig config) {
    Map<String, String> raw = config.properties();
    Map<String, String> options = new LinkedHashMap<>();
    String optimizer = raw.getOrDefault(GRAPH_OPTIMIZER, "false");
    if (!optimizer.equals("true") && !optimizer.equals("false")) {
      throw GraftException.invalid(
          "%s must be true or false, got '%s'", GRAPH_OPTIMIZER, optimizer);
    }
    options.put("ai.djl.pytorch.graph_optimizer", optimizer);
    threads(raw, NUM_THREADS, "ai.djl.pytorch.num_threads", options);
    threads(raw, NUM_INTEROP_THREADS, "ai.djl.pytorch.num_interop_threads", options);
    return new PyTorchEngine(
        ENGINE_CLASS, config.pytorchCacheDir(), options, System::getenv, System::getProperty);
  }

  private static void threads(
      Map<String, String> raw, String key, String djlKey, Map<String, String> options) {
    String text = raw.get(key);
    if (text == null || text.isEmpty()) {
      return;
    }
    try {
      int n = Integer.parseInt(text);
      if (n > 0 && n <= 1024) {
        options.put(djlKey, Integer.toString(n));
        return;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw GraftException.invalid("%s must be an integer in [1, 1024], got '%s'", key, text);
  }

  /** The DJL engine options this sets (unless already set), by system property. */
  Map<String, String> options() {
    return options;
  }

  /** Whether DJL's PyTorch engine classes are on the plugin's class path. */
  public boolean installed() {
    try {
      Class.forName(engineClass, false, PyTorchEngine.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /**
   * Refuses a PyTorch model when the engine is not installed.
   *
   * @throws GraftException {@code FAILED_PRECONDITION} (HTTP 400) naming the model
   */
  public void requireInstalled(String model) {
    if (!installed()) {
      throw GraftException.precondition(
          "model %s: engine=PyTorch, but the PyTorch engine is not installed (put the DJL"
              + " pytorch-engine jars into plugin_folder next to graft-plugin.jar; see"
              + " docs/torchscript.md)",
          model);
    }
  }

  /**
   * Loads a TorchScript model.
   *
   * @throws GraftException {@code FAILED_PRECONDITION} when the engine is not installed; as {@link
   *     Opener#open} otherwise
   */
  public ModelRuntime open(String name, Path file, ModelSettings.Io io, ModelWeights base) {
    requireInstalled(name);
    configureProcess();
    return opener().open(name, file, io, base);
  }

  /** The system properties {@link #open} sets: those not already chosen by env or property. */
  Map<String, String> switches() {
    Map<String, String> out = new LinkedHashMap<>();
    if (unset("DJL_OFFLINE") && unset("ai.djl.offline")) {
      out.put("ai.djl.offline", "true");
    }
    if (unset("OPT_OUT_TRACKING")) {
      out.put("OPT_OUT_TRACKING", "true");
    }
    if (unset("ENGINE_CACHE_DIR") && unset("DJL_CACHE_DIR")) {
      out.put("ENGINE_CACHE_DIR", cacheDir.toString());
    }
    new TreeMap<>(options)
        .forEach(
            (key, value) -> {
              if (unset(key)) {
                out.put(key, value);
              }
            });
    return out;
  }

  private boolean unset(String key) {
    String e = env.apply(key);
    String p = properties.apply(key);
    return (e == null || e.isEmpty()) && (p == null || p.isEmpty());
  }

  private void configureProcess() {
    synchronized (PyTorchEngine.class) {
      for (Map.Entry<String, String> e : switches().entrySet()) {
        System.setProperty(e.getKey(), e.getValue());
        LOG.info("DJL PyTorch engine: " + e.getKey() + "=" + e.getValue());
      }
    }
  }

  private static Opener opener() {
    try {
      return Class.forName(OPENER_CLASS, true, PyTorchEngine.class.getClassLoader())
          .asSubclass(Opener.class)
          .getDeclaredConstructor()
          .newInstance();
    } catch (InvocationTargetException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL,
          "cannot start the PyTorch runtime: " + e.getCause(),
          e.getCause());
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new GraftException(
          GraftException.Code.INTERNAL, "cannot start the PyTorch runtime: " + e, e);
    }
  }
}
