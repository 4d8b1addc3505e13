package dev.graft.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;

/** Small JSON helpers for command output. */
final class Json {
  private Json() {}

  /** {@code e} as indented JSON, the way every command prints it. */
  static String pretty(JsonElement e) {
    return new GsonBuilder().setPrettyPrinting().create().toJson(e);
  }

  static JsonArray longs(long[] values) {
    JsonArray a = new JsonArray();
    for (long v : values) {
      a.add(v);
    }
    return a;
  }
}
