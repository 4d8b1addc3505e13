package dev.graft.plugin.http;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.nio.charset.StandardCharsets;

/** The JSON encoding of replies. Thread safe. */
final class Json {
  static final Gson GSON =
      new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();

  private Json() {}

  static byte[] toBytes(Object value) {
    return GSON.toJson(value).getBytes(StandardCharsets.UTF_8);
  }
}
