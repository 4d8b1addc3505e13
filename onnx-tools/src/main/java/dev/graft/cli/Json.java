package dev.graft.cli;

import com.google.gson.JsonArray;

/** Small JSON helpers for command output. */
final class Json {
  private Json() {}

  static JsonArray longs(long[] values) {
    JsonArray a = new JsonArray();
    for (long v : values) {
      a.add(v);
    }
    return a;
  }
}
