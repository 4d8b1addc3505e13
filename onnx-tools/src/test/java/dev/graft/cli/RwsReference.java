package dev.graft.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.Fixtures;
import java.io.IOException;
import java.nio.file.Files;

/**
 * The reference figures of {@code fixtures/rws/rws-reference.json} (computed in PyTorch, not by
 * Graft).
 */
final class RwsReference {
  private static final JsonObject ROOT = load();

  private RwsReference() {}

  private static JsonObject load() {
    try {
      return JsonParser.parseString(Files.readString(Fixtures.rws("rws-reference.json")))
          .getAsJsonObject();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A patch figure, e.g. {@code patch("gaussian_noise", "keep4-levels256", "corrupt")}. */
  static double patch(String corruption, String variant, String set) {
    return ROOT.getAsJsonObject("corruptions")
        .getAsJsonObject(corruption)
        .getAsJsonObject("patch")
        .getAsJsonObject(variant)
        .get(set)
        .getAsDouble();
  }

  static JsonObject corruption(String corruption) {
    return ROOT.getAsJsonObject("corruptions").getAsJsonObject(corruption);
  }

  static double composition(String set) {
    return ROOT.getAsJsonObject("compose_noise_blur_keep4_levels256").get(set).getAsDouble();
  }
}
