package dev.graft.plugin.http;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.nio.charset.StandardCharsets;

/** The JSON encoding of replies. Thread safe. */
final class Json {
  static final Gson GSON =
      new GsonBuilder()
          .disableHtmlEscaping()
          .serializeNulls() // every documented field is present, null when it has no value
          .serializeSpecialFloatingPointValues()
          .create();

  private Json() {}

  static byte[] toBytes(Object value) {
    return GSON.toJson(value).getBytes(StandardCharsets.UTF_8);
  }
}
