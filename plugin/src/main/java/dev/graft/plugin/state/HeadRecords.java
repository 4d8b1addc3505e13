package dev.graft.plugin.state;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.Alignment;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import dev.graft.plugin.head.HeadHistory;
import dev.graft.plugin.head.HeadStep;
import dev.graft.plugin.head.HeadVersion;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The JSON of one head in the {@code heads} section of {@code graft.json}, keyed by the head's
 * name, and of the step stored in each version file:
 *
 * <pre>{@code
 * "heads": {"digits": {"current": 3, "last": 3, "versions": [
 *   {"version": 1, "parent": 0, "created": "2026-11-27T15:04:05.123Z",
 *    "file": "heads/digits/<sha256>.safetensors", "sha256": "...", "bytes": 1234, "classes": 4},
 *   {"version": 2, "parent": 1, ..., "classes": 7}, ...]}}
 * }</pre>
 *
 * {@code file} is relative to the model folder and always {@code heads/<head>/<sha256>.safetensors}
 * (anything else is refused, so a manifest cannot point outside the folder). The file holds the
 * version's weights and labels and, as safetensors metadata {@value #STEP_KEY}, the step that made
 * it: {@code {"input": "full_head", "align": "wa", "oldLabels": [...], "newLabels": [...], "gamma":
 * ..., "applied": true, "meanOldNorm": ..., "meanNewNorm": ..., "normsBefore": [...], "normsAfter":
 * [...]}}. Everything that never changes about a version is in its file, so the manifest, rewritten
 * at every change, stays small whatever the head's size. Numbers are written with every digit, so
 * decoding gives back the same doubles (a non-finite one, which JSON cannot hold, would be written
 * as a string: {@code "Infinity"}). Stateless.
 */
final class HeadRecords {
  /** The safetensors metadata key of a version file's step. */
  static final String STEP_KEY = "graft.step";

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  private HeadRecords() {}

  /** One head's recorded state. */
  record Entry(int current, int last, List<Version> versions) {}

  /** One recorded version. */
  record Version(
      String head,
      int version,
      int parent,
      Instant created,
      String file,
      String sha256,
      long bytes,
      int classes) {

    /**
     * The version with {@code weights} and {@code step}, read from {@link #file}.
     *
     * @throws GraftException {@code INVALID_ARGUMENT} when they do not fit the record
     */
    HeadVersion toVersion(ClassifierHead weights, Optional<HeadStep> step) {
      if (weights.classes() != classes) {
        throw GraftException.invalid(
            "%s has %d classes, the record says %d", file, weights.classes(), classes);
      }
      if (step.isPresent()) {
        List<String> labels = new ArrayList<>(step.get().oldLabels());
        labels.addAll(step.get().newLabels());
        if (!labels.equals(weights.labels())) {
          throw GraftException.invalid(
              "%s has labels %s, its step names %s", file, weights.labels(), labels);
        }
      }
      return new HeadVersion(head, version, parent, weights, step, created);
    }

    /** Whether {@code v} is this record's version (the weights aside). */
    boolean describes(HeadVersion v) {
      return v.version() == version
          && v.parent() == parent
          && v.created().equals(created)
          && v.classifier().classes() == classes;
    }
  }

  /** The metadata of a version file: its step, if any. */
  static Map<String, String> fileMetadata(HeadVersion v) {
    return v.step().map(s -> Map.of(STEP_KEY, step(s).toString())).orElse(Map.of());
  }

  /**
   * The step a version file's metadata holds.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for a malformed step
   */
  static Optional<HeadStep> fileStep(Map<String, String> metadata, String file) {
    String text = metadata.get(STEP_KEY);
    if (text == null) {
      return Optional.empty();
    }
    JsonElement json;
    try {
      json = JsonParser.parseString(text);
    } catch (JsonParseException e) {
      throw GraftException.invalid("%s: metadata %s is not JSON", file, STEP_KEY);
    }
    return Optional.of(step(Fields.of(json, file + " " + STEP_KEY)));
  }

  /** The record of {@code history}; {@code stored} gives each kept version's file. */
  static JsonObject encode(HeadHistory history, Function<HeadVersion, HeadJournal.Stored> stored) {
    JsonObject out = new JsonObject();
    out.addProperty("current", history.current().version());
    out.addProperty("last", history.lastVersion());
    JsonArray versions = new JsonArray();
    for (HeadVersion v : history.kept()) {
      HeadJournal.Stored s = stored.apply(v);
      JsonObject o = new JsonObject();
      o.addProperty("version", v.version());
      o.addProperty("parent", v.parent());
      o.addProperty("created", v.created().toString());
      o.addProperty("file", s.file());
      o.addProperty("sha256", s.sha256());
      o.addProperty("bytes", s.bytes());
      o.addProperty("classes", v.classifier().classes());
      versions.add(o);
    }
    out.add("versions", versions);
    return out;
  }

  /**
   * Reads the record of head {@code head}.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} naming the field for anything malformed: a
   *     missing or mistyped field, a file name other than {@code
   *     heads/<head>/<sha256>.safetensors}, a repeated version number, a current version that is
   *     not recorded
   */
  static Entry decode(String head, JsonElement json) {
    Fields f = Fields.of(json, "graft.json heads." + head);
    int current = f.integer("current");
    int last = f.integer("last");
    List<Version> versions = new ArrayList<>();
    Set<Integer> numbers = new HashSet<>();
    JsonArray list = f.array("versions");
    for (int i = 0; i < list.size(); i++) {
      Version v = version(head, Fields.of(list.get(i), f.where + ".versions[" + i + "]"));
      if (!numbers.add(v.version())) {
        throw GraftException.invalid("%s: v%d is recorded twice", f.where, v.version());
      }
      if (v.version() > last) {
        throw GraftException.invalid(
            "%s: v%d is above the last issued version %d", f.where, v.version(), last);
      }
      versions.add(v);
    }
    if (!numbers.contains(current)) {
      throw GraftException.invalid(
          "%s: the current version v%d is not among the recorded versions %s",
          f.where, current, numbers);
    }
    versions.sort((a, b) -> Integer.compare(a.version(), b.version()));
    return new Entry(current, last, List.copyOf(versions));
  }

  private static Version version(String head, Fields f) {
    int version = f.integer("version");
    int parent = f.integer("parent");
    if (version < 1 || parent < 0 || parent >= version) {
      throw GraftException.invalid(
          "%s: v%d with parent %d (versions start at 1, parents are older)",
          f.where, version, parent);
    }
    Instant created;
    try {
      created = Instant.parse(f.text("created"));
    } catch (DateTimeParseException e) {
      throw GraftException.invalid("%s: created is not an ISO-8601 instant", f.where);
    }
    String sha = f.text("sha256");
    if (!SHA256.matcher(sha).matches()) {
      throw GraftException.invalid("%s: sha256 must be 64 lower-case hex digits", f.where);
    }
    String file = f.text("file");
    String expected = StateLocation.headFile(head, sha);
    if (!file.equals(expected)) {
      throw GraftException.invalid("%s: file must be %s, is %s", f.where, expected, file);
    }
    long bytes = f.integer("bytes");
    int classes = f.integer("classes");
    return new Version(head, version, parent, created, file, sha, bytes, classes);
  }

  private static JsonObject step(HeadStep s) {
    Alignment a = s.alignment();
    JsonObject o = new JsonObject();
    o.addProperty("input", s.input().name().toLowerCase(Locale.ROOT));
    o.addProperty("align", s.mode().wireName());
    o.add("oldLabels", strings(s.oldLabels()));
    o.add("newLabels", strings(s.newLabels()));
    o.add("gamma", number(a.gamma()));
    o.addProperty("applied", a.applied());
    o.add("meanOldNorm", number(a.meanOldNorm()));
    o.add("meanNewNorm", number(a.meanNewNorm()));
    o.add("normsBefore", numbers(s.normsBefore()));
    o.add("normsAfter", numbers(s.normsAfter()));
    return o;
  }

  private static HeadStep step(Fields f) {
    IncrementalStep.Input input;
    try {
      input = IncrementalStep.Input.valueOf(f.text("input").toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw GraftException.invalid("%s: input must be full_head or new_rows", f.where);
    }
    AlignMode mode = AlignMode.parse(f.text("align"));
    List<String> oldLabels = f.strings("oldLabels");
    return new HeadStep(
        input,
        mode,
        oldLabels,
        f.strings("newLabels"),
        new Alignment(
            oldLabels.size(),
            f.number("meanOldNorm"),
            f.number("meanNewNorm"),
            f.number("gamma"),
            f.bool("applied")),
        f.numbers("normsBefore"),
        f.numbers("normsAfter"));
  }

  private static JsonArray strings(List<String> values) {
    JsonArray a = new JsonArray();
    values.forEach(a::add);
    return a;
  }

  private static JsonArray numbers(List<Double> values) {
    JsonArray a = new JsonArray();
    values.forEach(v -> a.add(number(v)));
    return a;
  }

  /** A double as a JSON number, or as a string when JSON has no number for it. */
  private static JsonPrimitive number(double v) {
    return Double.isFinite(v) ? new JsonPrimitive(v) : new JsonPrimitive(Double.toString(v));
  }

  /** Typed access to one JSON object's fields, with messages naming the field. */
  private record Fields(JsonObject object, String where) {
    static Fields of(JsonElement e, String where) {
      if (e == null || !e.isJsonObject()) {
        throw GraftException.invalid("%s must be an object", where);
      }
      return new Fields(e.getAsJsonObject(), where);
    }

    private JsonPrimitive primitive(String key) {
      JsonElement e = object.get(key);
      if (e == null || !e.isJsonPrimitive()) {
        throw GraftException.invalid("%s.%s is missing or not a plain value", where, key);
      }
      return e.getAsJsonPrimitive();
    }

    String text(String key) {
      JsonPrimitive p = primitive(key);
      if (!p.isString()) {
        throw GraftException.invalid("%s.%s must be a string", where, key);
      }
      return p.getAsString();
    }

    int integer(String key) {
      JsonPrimitive p = primitive(key);
      try {
        if (p.isNumber()) {
          return p.getAsBigDecimal().intValueExact();
        }
      } catch (ArithmeticException | NumberFormatException e) {
        // reported below
      }
      throw GraftException.invalid("%s.%s must be an integer", where, key);
    }

    boolean bool(String key) {
      JsonPrimitive p = primitive(key);
      if (!p.isBoolean()) {
        throw GraftException.invalid("%s.%s must be true or false", where, key);
      }
      return p.getAsBoolean();
    }

    double number(String key) {
      return toDouble(primitive(key), key);
    }

    private double toDouble(JsonPrimitive p, String key) {
      String text = p.getAsString();
      boolean special = text.equals("NaN") || text.equals("Infinity") || text.equals("-Infinity");
      if (p.isNumber() || (p.isString() && special)) {
        try {
          return Double.parseDouble(text);
        } catch (NumberFormatException e) {
          // reported below
        }
      }
      throw GraftException.invalid("%s.%s must be a number", where, key);
    }

    JsonArray array(String key) {
      JsonElement e = object.get(key);
      if (e == null || !e.isJsonArray()) {
        throw GraftException.invalid("%s.%s must be an array", where, key);
      }
      return e.getAsJsonArray();
    }

    List<String> strings(String key) {
      List<String> out = new ArrayList<>();
      for (JsonElement e : array(key)) {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
          throw GraftException.invalid("%s.%s must hold strings", where, key);
        }
        out.add(e.getAsString());
      }
      return out;
    }

    List<Double> numbers(String key) {
      List<Double> out = new ArrayList<>();
      for (JsonElement e : array(key)) {
        if (!e.isJsonPrimitive()) {
          throw GraftException.invalid("%s.%s must hold numbers", where, key);
        }
        out.add(toDouble(e.getAsJsonPrimitive(), key));
      }
      return out;
    }
  }
}
