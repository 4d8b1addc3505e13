package dev.graft.plugin.config;

import dev.graft.onnx.GraftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A model folder's {@code serving.properties}, validated. Immutable.
 *
 * <p>Keys: {@code engine} ({@code OnnxRuntime} or {@code PyTorch}), {@code translator} ({@code
 * image-classification} or none), {@code graft.image.width/height/channels}, {@code graft.topk},
 * {@code option.intraOpNumThreads}, {@code option.interOpNumThreads}, {@code option.optLevel}
 * ({@code NO_OPT}, {@code BASIC_OPT}, {@code EXTENDED_OPT} (default), {@code LAYOUT_OPT}, {@code
 * ALL_OPT}), {@code option.executionMode} ({@code SEQUENTIAL}, {@code PARALLEL}), batch keys {@code
 * batch_size} and {@code max_batch_delay} (reported, no batching is done). Any {@code option.} key
 * whose remainder contains a dot is an ONNX Runtime session config entry, e.g. {@code
 * option.session.intra_op.allow_spinning=1}; {@code session.intra_op.allow_spinning} defaults to
 * {@code 0} (spinning threads halve throughput on small machines). TorchScript files do not name
 * their inputs and outputs: {@link Io} says how.
 *
 * @param engine the engine name as written
 * @param translator {@code image-classification}, or empty for raw tensor models
 * @param image the input image geometry for the image translator
 * @param topK how many classes {@code /predictions} returns
 * @param intraOpThreads ONNX Runtime intra-op threads, 0 for its default
 * @param interOpThreads ONNX Runtime inter-op threads, 0 for its default
 * @param optLevel the requested graph optimisation level name
 * @param executionMode {@code SEQUENTIAL} or {@code PARALLEL}
 * @param sessionConfig ONNX Runtime session config entries, in file order
 * @param batchSize {@code batch_size}, reported only
 * @param maxBatchDelay {@code max_batch_delay} in ms, reported only
 * @param io input and output names and shapes for engines whose files do not declare them
 */
public record ModelSettings(
    String engine,
    Optional<String> translator,
    ImageGeometry image,
    int topK,
    int intraOpThreads,
    int interOpThreads,
    String optLevel,
    String executionMode,
    Map<String, String> sessionConfig,
    int batchSize,
    int maxBatchDelay,
    Io io) {

  public static final String FILE_NAME = "serving.properties";

  /** {@code option.ofq.*} keys configure 2-bit OFQ models ({@code plugin.ofq}), not sessions. */
  static final String OFQ_OPTIONS = "option.ofq.";

  public static final String ENGINE = "OnnxRuntime";
  public static final String PYTORCH = "PyTorch";
  public static final String IMAGE_CLASSIFICATION = "image-classification";

  private static final Set<String> OPT_LEVELS =
      Set.of("NO_OPT", "BASIC_OPT", "EXTENDED_OPT", "LAYOUT_OPT", "ALL_OPT");
  private static final Set<String> EXECUTION_MODES = Set.of("SEQUENTIAL", "PARALLEL");

  /** Width, height and channel count (1 gray, 3 RGB) of the image the model takes. */
  public record ImageGeometry(int width, int height, int channels) {}

  /**
   * The inputs and outputs of a model whose file does not declare them (TorchScript): {@code
   * graft.inputs} and {@code graft.outputs}, comma-separated names in {@code forward()} order
   * (default {@code input} and {@code output}), and {@code graft.shape.<input>}, comma-separated
   * sizes with {@code -1} for any size (default: any shape; {@code -1,channels,height,width} for
   * the input of an image classifier).
   *
   * @param inputs input names in argument order
   * @param outputs output names in result order
   * @param shapes the declared shape of each input that has one
   */
  public record Io(List<String> inputs, List<String> outputs, Map<String, List<Long>> shapes) {
    public Io {
      inputs = List.copyOf(inputs);
      outputs = List.copyOf(outputs);
      shapes = Map.copyOf(shapes);
    }
  }

  public ModelSettings {
    sessionConfig = Collections.unmodifiableMap(new LinkedHashMap<>(sessionConfig));
  }

  /** Settings of a model without {@code serving.properties}: all defaults. */
  public static ModelSettings defaults() {
    return parse(Map.of(), "defaults");
  }

  /** Reads {@code folder/serving.properties}, or the defaults when the folder has none. */
  public static ModelSettings readFolder(Path folder) {
    Path file = folder.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return defaults();
    }
    return parse(GraftConfig.readProperties(file), file.getFileName().toString());
  }

  /**
   * Validates raw {@code serving.properties} entries.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} naming {@code source} for a value that does not
   *     parse, {@code FAILED_PRECONDITION} for an engine or translator Graft does not serve
   */
  public static ModelSettings parse(Map<String, String> raw, String source) {
    String engine = raw.getOrDefault("engine", ENGINE);
    if (!ENGINE.equalsIgnoreCase(engine) && !PYTORCH.equalsIgnoreCase(engine)) {
      throw GraftException.precondition(
          "%s: engine=%s is not served by Graft (engine=%s or engine=%s)",
          source, engine, ENGINE, PYTORCH);
    }
    Optional<String> translator =
        Optional.ofNullable(raw.get("translator")).filter(s -> !s.isEmpty());
    if (translator.isPresent() && !IMAGE_CLASSIFICATION.equals(translator.get())) {
      throw GraftException.precondition(
          "%s: translator=%s is not supported (only %s, or none)",
          source, translator.get(), IMAGE_CLASSIFICATION);
    }
    int channels = integer(raw, "graft.image.channels", 1, 1, 4, source);
    if (channels != 1 && channels != 3) {
      throw GraftException.invalid(
          "%s: graft.image.channels must be 1 or 3, got %d", source, channels);
    }
    ImageGeometry image =
        new ImageGeometry(
            integer(raw, "graft.image.width", 224, 1, 1 << 14, source),
            integer(raw, "graft.image.height", 224, 1, 1 << 14, source),
            channels);
    String optLevel = choice(raw, "option.optLevel", "EXTENDED_OPT", OPT_LEVELS, source);
    String mode = choice(raw, "option.executionMode", "SEQUENTIAL", EXECUTION_MODES, source);
    Map<String, String> sessionConfig = new LinkedHashMap<>();
    sessionConfig.put("session.intra_op.allow_spinning", "0");
    new TreeMap<>(raw)
        .forEach(
            (key, value) -> {
              if (key.startsWith("option.")
                  && key.indexOf('.', "option.".length()) > 0
                  && !key.startsWith(OFQ_OPTIONS)) {
                sessionConfig.put(key.substring("option.".length()), value);
              }
            });
    return new ModelSettings(
        engine,
        translator,
        image,
        integer(raw, "graft.topk", 5, 1, 1 << 20, source),
        integer(raw, "option.intraOpNumThreads", 0, 0, 1024, source),
        integer(raw, "option.interOpNumThreads", 0, 0, 1024, source),
        optLevel,
        mode,
        sessionConfig,
        integer(raw, "batch_size", 1, 1, 1 << 20, source),
        integer(raw, "max_batch_delay", 100, 0, Integer.MAX_VALUE, source),
        io(raw, translator.isPresent() ? image : null, source));
  }

  /** Whether the model runs on DJL's PyTorch engine (a TorchScript {@code .pt} file). */
  public boolean isPyTorch() {
    return PYTORCH.equalsIgnoreCase(engine);
  }

  /** Settings of a bare {@code .pt} file: the defaults on the PyTorch engine. */
  public static ModelSettings pyTorchDefaults() {
    return parse(Map.of("engine", PYTORCH), "defaults");
  }

  private static Io io(Map<String, String> raw, ImageGeometry image, String source) {
    List<String> inputs = names(raw, "graft.inputs", "input", source);
    List<String> outputs = names(raw, "graft.outputs", "output", source);
    Map<String, List<Long>> shapes = new LinkedHashMap<>();
    if (image != null) {
      shapes.put(
          inputs.get(0),
          List.of(-1L, (long) image.channels(), (long) image.height(), (long) image.width()));
    }
    for (String input : inputs) {
      String text = raw.get("graft.shape." + input);
      if (text != null && !text.isEmpty()) {
        shapes.put(input, sizes(text, "graft.shape." + input, source));
      }
    }
    return new Io(inputs, outputs, shapes);
  }

  private static List<String> names(
      Map<String, String> raw, String key, String fallback, String source) {
    List<String> names =
        Arrays.stream(raw.getOrDefault(key, fallback).split(","))
            .map(String::strip)
            .filter(s -> !s.isEmpty())
            .toList();
    if (names.isEmpty() || new HashSet<>(names).size() != names.size()) {
      throw GraftException.invalid(
          "%s: %s must list distinct names, got '%s'", source, key, raw.get(key));
    }
    return names;
  }

  private static List<Long> sizes(String text, String key, String source) {
    List<Long> out = new ArrayList<>();
    for (String part : text.split(",")) {
      try {
        long v = Long.parseLong(part.strip());
        if (v == -1 || v > 0) {
          out.add(v);
          continue;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw GraftException.invalid(
          "%s: %s must be comma-separated sizes (-1 for any), got '%s'", source, key, text);
    }
    return out;
  }

  /** The same settings with other ONNX Runtime session config entries. */
  public ModelSettings withSessionConfig(Map<String, String> config) {
    return new ModelSettings(
        engine,
        translator,
        image,
        topK,
        intraOpThreads,
        interOpThreads,
        optLevel,
        executionMode,
        config,
        batchSize,
        maxBatchDelay,
        io);
  }

  /** Whether {@code /predictions} decodes images for this model. */
  public boolean classifiesImages() {
    return translator.isPresent();
  }

  private static int integer(
      Map<String, String> raw, String key, int fallback, int min, int max, String source) {
    String text = raw.get(key);
    if (text == null || text.isEmpty()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw GraftException.invalid(
        "%s: %s must be an integer in [%d, %d], got '%s'", source, key, min, max, text);
  }

  private static String choice(
      Map<String, String> raw, String key, String fallback, Set<String> allowed, String source) {
    String text = raw.get(key);
    if (text == null || text.isEmpty()) {
      return fallback;
    }
    String value = text.toUpperCase(Locale.ROOT);
    if (!allowed.contains(value)) {
      throw GraftException.invalid(
          "%s: %s must be one of %s, got '%s'", source, key, new TreeSet<>(allowed), text);
    }
    return value;
  }
}
