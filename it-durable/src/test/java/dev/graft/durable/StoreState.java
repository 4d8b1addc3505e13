package dev.graft.durable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** The model's {@code graft.json} as the test reads it, independently of the plugin's code. */
record StoreState(long version, String label) {
  static final String MODEL = "mnist-vgg";

  /** The manifest of {@code mnist-vgg} in {@code store}, or version 0 / base when absent. */
  static StoreState read(Path store) {
    Path file = store.resolve(MODEL).resolve("graft.json");
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return new StoreState(0, "base");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    JsonObject m = JsonParser.parseString(text).getAsJsonObject();
    TreeMap<String, Double> attached = new TreeMap<>();
    for (JsonElement e : m.getAsJsonArray("adapters")) {
      JsonObject a = e.getAsJsonObject();
      if (a.get("attached").getAsBoolean()) {
        attached.put(a.get("name").getAsString(), a.get("alpha").getAsDouble());
      }
    }
    List<String> terms = new ArrayList<>();
    attached.forEach((name, alpha) -> terms.add(name + "@" + alpha));
    return new StoreState(
        m.get("version").getAsLong(), terms.isEmpty() ? "base" : String.join("+", terms));
  }

  /** The version on disk, or -1 while the file is being replaced or is unreadable. */
  static long versionNow(Path store) {
    try {
      return read(store).version();
    } catch (RuntimeException e) {
      return -1;
    }
  }
}
