package dev.graft.plugin.head;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The classifier head a model folder declares in {@code serving.properties}. Immutable.
 *
 * <p>Keys: {@code graft.head.name} (declares the head; 1-128 of {@code A-Z a-z 0-9 _ . -}), {@code
 * graft.head.features} (the backbone output that carries the features, {@code [N, D]}), {@code
 * graft.head.init} (a safetensors file in the model folder: {@code weight [C, D]}, {@code bias
 * [C]}, metadata {@code classes}), optional {@code graft.head.output} (the name of the logits
 * output, default {@code logits}) and {@code graft.head.history} (how many versions are kept for
 * rollback and history, default 32, at least 2).
 *
 * @param name the head's name, used in URLs and in {@code X-Graft-Weights}
 * @param features the backbone output the head reads
 * @param init the initial head's file name, relative to the model folder
 * @param output the name under which the head's logits are returned
 * @param history the number of versions kept
 */
public record HeadSettings(String name, String features, String init, String output, int history) {
  public static final String PREFIX = "graft.head.";
  public static final String DEFAULT_OUTPUT = "logits";
  public static final int DEFAULT_HISTORY = 32;

  /** Head names keep {@code ;}, {@code @} and {@code +} free as separators of the header. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

  /**
   * The head declared in {@code folder/serving.properties}, if any.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for an incomplete or malformed declaration
   */
  public static Optional<HeadSettings> readFolder(Path folder) {
    Path file = folder.resolve(ModelSettings.FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    return parse(GraftConfig.readProperties(file), file.getFileName().toString());
  }

  /**
   * The head declared by raw {@code serving.properties} entries, if any.
   *
   * @param source names the file in messages
   * @throws GraftException {@code INVALID_ARGUMENT} when a {@code graft.head.*} key is present but
   *     the declaration is incomplete or a value does not parse
   */
  public static Optional<HeadSettings> parse(Map<String, String> raw, String source) {
    boolean declared = raw.keySet().stream().anyMatch(k -> k.startsWith(PREFIX));
    if (!declared) {
      return Optional.empty();
    }
    String name = required(raw, "name", source);
    if (!NAME.matcher(name).matches()) {
      throw GraftException.invalid(
          "%s: %sname '%s' must be 1-128 letters, digits, '_', '.' or '-'", source, PREFIX, name);
    }
    String init = required(raw, "init", source);
    Path initPath = Path.of(init);
    if (initPath.isAbsolute() || initPath.getNameCount() != 1 || init.equals("..")) {
      throw GraftException.invalid(
          "%s: %sinit must name a file in the model folder, got '%s'", source, PREFIX, init);
    }
    String output = raw.getOrDefault(PREFIX + "output", DEFAULT_OUTPUT);
    if (output.isBlank()) {
      throw GraftException.invalid("%s: %soutput must not be empty", source, PREFIX);
    }
    return Optional.of(
        new HeadSettings(
            name, required(raw, "features", source), init, output, history(raw, source)));
  }

  private static String required(Map<String, String> raw, String key, String source) {
    String value = raw.get(PREFIX + key);
    if (value == null || value.isBlank()) {
      throw GraftException.invalid(
          "%s: a head needs %sname, %sfeatures and %sinit; %s%s is missing",
          source, PREFIX, PREFIX, PREFIX, PREFIX, key);
    }
    return value;
  }

  private static int history(Map<String, String> raw, String source) {
    String text = raw.get(PREFIX + "history");
    if (text == null || text.isBlank()) {
      return DEFAULT_HISTORY;
    }
    try {
      int value = Integer.parseInt(text);
      if (value >= 2 && value <= 100_000) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw GraftException.invalid(
        "%s: %shistory must be an integer in [2, 100000], got '%s'", source, PREFIX, text);
  }
}
