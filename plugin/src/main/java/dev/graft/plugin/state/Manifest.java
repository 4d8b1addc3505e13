package dev.graft.plugin.state;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.graft.onnx.GraftException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The content of a model's {@code graft.json}: every change to the model's adapters (and other
 * sections, such as heads) is written here before it goes live, and replayed at start-up.
 *
 * <pre>{@code
 * {"format": 1, "version": 7, "writer": "host-a/4711/9f3c", "written": "2026-11-27T15:04:05Z",
 *  "adapters": [{"name": "noise", "file": "mnist-vgg/adapters/noise.rws", "sha256": "...",
 *                "bytes": 1234, "alpha": 0.5, "attached": true, "transfer": false,
 *                "src": "<request body>"}],
 *  "heads": {"digits": {"current": 2, "last": 2, "versions": [...]}}}
 * }</pre>
 *
 * <p>{@code version} grows by one with every write, whoever the writer: replicas apply a manifest
 * only when its version is newer than the one they applied (or equal with other content: two
 * writers raced, and the file on disk wins). {@code writer} names the process that wrote it.
 * Top-level keys other than the ones above are sections owned by other features ({@code heads}: see
 * {@link HeadRecords}); they are kept verbatim (a replica that does not know a section does not
 * drop it). Immutable.
 *
 * @param version the write counter, 0 for "no manifest"
 * @param writer the id of the process that wrote it
 * @param written when, as an ISO-8601 instant (informative)
 * @param adapters the adapters, sorted by name
 * @param sections other top-level keys, by key
 */
public record Manifest(
    long version,
    String writer,
    String written,
    List<AdapterEntry> adapters,
    Map<String, JsonElement> sections) {

  /** The format this Graft writes and reads. */
  public static final int FORMAT = 1;

  /** No manifest: nothing registered. */
  public static final Manifest EMPTY = new Manifest(0, "", "", List.of(), Map.of());

  private static final Set<String> OWN_KEYS =
      Set.of("format", "version", "writer", "written", "adapters");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  public Manifest {
    adapters = List.copyOf(adapters);
    sections = Collections.unmodifiableMap(new TreeMap<>(sections));
  }

  /** A copy with another adapter list. */
  public Manifest withAdapters(List<AdapterEntry> entries) {
    return new Manifest(version, writer, written, entries, sections);
  }

  /** A copy where section {@code key} holds {@code value} ({@code null} removes it). */
  public Manifest withSection(String key, JsonElement value) {
    if (OWN_KEYS.contains(key)) {
      throw new IllegalArgumentException(key + " is not a section");
    }
    Map<String, JsonElement> next = new TreeMap<>(sections);
    if (value == null || value.isJsonNull()) {
      next.remove(key);
    } else {
      next.put(key, value.deepCopy());
    }
    return new Manifest(version, writer, written, adapters, next);
  }

  /** This content as the next version, written by {@code by} at {@code when}. */
  public Manifest successor(long nextVersion, String by, String when) {
    return new Manifest(nextVersion, by, when, adapters, sections);
  }

  /** The file's bytes: indented UTF-8 JSON. */
  public byte[] toJson() {
    JsonObject root = new JsonObject();
    root.addProperty("format", FORMAT);
    root.addProperty("version", version);
    root.addProperty("writer", writer);
    root.addProperty("written", written);
    JsonArray list = new JsonArray();
    for (AdapterEntry a : adapters) {
      JsonObject o = new JsonObject();
      o.addProperty("name", a.name());
      o.addProperty("file", a.file());
      o.addProperty("sha256", a.sha256());
      o.addProperty("bytes", a.bytes());
      o.addProperty("alpha", a.alpha());
      o.addProperty("attached", a.attached());
      o.addProperty("transfer", a.transfer());
      o.addProperty("src", a.src());
      list.add(o);
    }
    root.add("adapters", list);
    sections.forEach((k, v) -> root.add(k, v.deepCopy()));
    String text = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root);
    return (text + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads a manifest.
   *
   * @param source names the file in messages
   * @throws GraftException {@code INVALID_ARGUMENT} for anything that is not a manifest of this
   *     format: not JSON, a missing or mistyped field, a non-finite alpha, a repeated name
   */
  public static Manifest parse(byte[] bytes, String source) {
    JsonObject root;
    try {
      JsonElement e = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8));
      if (!e.isJsonObject()) {
        throw GraftException.invalid("%s is not a JSON object", source);
      }
      root = e.getAsJsonObject();
    } catch (JsonParseException e) {
      throw GraftException.invalid("%s is not valid JSON: %s", source, e.getMessage());
    }
    Fields f = new Fields(root, source);
    long format = f.integer("format");
    if (format != FORMAT) {
      throw GraftException.invalid(
          "%s has format %d; this Graft reads format %d (written by a newer Graft?)",
          source, format, FORMAT);
    }
    long version = f.integer("version");
    if (version < 0) {
      throw GraftException.invalid("%s: version %d is negative", source, version);
    }
    List<AdapterEntry> adapters = new ArrayList<>();
    Set<String> names = new HashSet<>();
    JsonElement list = root.get("adapters");
    if (list != null && !list.isJsonNull()) {
      if (!list.isJsonArray()) {
        throw GraftException.invalid("%s: adapters must be an array", source);
      }
      for (JsonElement item : list.getAsJsonArray()) {
        if (!item.isJsonObject()) {
          throw GraftException.invalid("%s: every adapter must be an object", source);
        }
        AdapterEntry a = entry(new Fields(item.getAsJsonObject(), source + " adapter"));
        if (!names.add(a.name())) {
          throw GraftException.invalid("%s: adapter %s appears twice", source, a.name());
        }
        adapters.add(a);
      }
    }
    adapters.sort((x, y) -> x.name().compareTo(y.name()));
    Map<String, JsonElement> sections = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : root.entrySet()) {
      if (!OWN_KEYS.contains(e.getKey())) {
        sections.put(e.getKey(), e.getValue());
      }
    }
    return new Manifest(version, f.text("writer", ""), f.text("written", ""), adapters, sections);
  }

  private static AdapterEntry entry(Fields f) {
    String name = f.text("name", null);
    String sha = f.text("sha256", null);
    if (!SHA256.matcher(sha).matches()) {
      throw GraftException.invalid("adapter %s: sha256 must be 64 lower-case hex digits", name);
    }
    double alpha = f.number("alpha");
    if (!Double.isFinite(alpha)) {
      throw GraftException.invalid("adapter %s: alpha must be finite", name);
    }
    long bytes = f.integer("bytes");
    String file = f.text("file", null);
    return new AdapterEntry(
        name,
        file,
        sha,
        bytes,
        alpha,
        f.bool("attached", true),
        f.bool("transfer", false),
        f.text("src", file));
  }

  /** Typed access to the fields of one JSON object, with messages naming the field. */
  private record Fields(JsonObject object, String source) {
    String text(String key, String fallback) {
      JsonPrimitive p = primitive(key, fallback != null);
      if (p == null) {
        return fallback;
      }
      if (!p.isString()) {
        throw GraftException.invalid("%s: %s must be a string", source, key);
      }
      return p.getAsString();
    }

    long integer(String key) {
      JsonPrimitive p = primitive(key, false);
      try {
        if (p.isNumber()) {
          return p.getAsBigDecimal().longValueExact();
        }
      } catch (ArithmeticException | NumberFormatException e) {
        // reported below
      }
      throw GraftException.invalid("%s: %s must be an integer", source, key);
    }

    double number(String key) {
      JsonPrimitive p = primitive(key, false);
      if (!p.isNumber()) {
        throw GraftException.invalid("%s: %s must be a number", source, key);
      }
      try {
        return Double.parseDouble(p.getAsString());
      } catch (NumberFormatException e) {
        throw GraftException.invalid("%s: %s must be a number", source, key);
      }
    }

    boolean bool(String key, boolean fallback) {
      JsonPrimitive p = primitive(key, true);
      if (p == null) {
        return fallback;
      }
      if (!p.isBoolean()) {
        throw GraftException.invalid("%s: %s must be true or false", source, key);
      }
      return p.getAsBoolean();
    }

    private JsonPrimitive primitive(String key, boolean optional) {
      JsonElement e = object.get(key);
      if (e == null || e.isJsonNull()) {
        if (optional) {
          return null;
        }
        throw GraftException.invalid("%s: %s is missing", source, key);
      }
      if (!e.isJsonPrimitive()) {
        throw GraftException.invalid("%s: %s must be a plain value", source, key);
      }
      return e.getAsJsonPrimitive();
    }
  }
}
