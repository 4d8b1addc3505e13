package dev.graft.it;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.onnx.rws.RwsSignature;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Robust weight signatures extracted from the fixture VGGs with onnx-tools, as the {@code graft rws
 * extract} command would write them: keep 4 layers, 256 levels, per tensor, with the pretrained
 * model. Extraction is deterministic but for the creation time, so each signature is made once per
 * test JVM.
 */
public final class Signatures {
  private static final int KEEP = 4;
  private static final int LEVELS = 256;
  private static final Map<String, RwsSignature> CACHE = new ConcurrentHashMap<>();

  private Signatures() {}

  /** The {@code corruption} signature extracted against the clean VGG. */
  public static RwsSignature forClean(String corruption) {
    return extract("clean", corruption);
  }

  /**
   * The {@code corruption} signature extracted with {@code mnist-vgg-<cleanVariant>} as the clean
   * model, e.g. {@code clean-v2}: the same architecture as the served VGG, other base weights.
   */
  public static RwsSignature extract(String cleanVariant, String corruption) {
    return CACHE.computeIfAbsent(
        cleanVariant + "/" + corruption,
        k ->
            RwsExtractor.extract(
                    OnnxModel.load(Fixtures.vgg(cleanVariant)),
                    OnnxModel.load(Fixtures.vgg("robust-" + corruption)),
                    OnnxModel.load(Fixtures.vgg("pretrained")),
                    new RwsExtractor.Options(
                        corruption, corruption, KEEP, List.of(), LEVELS, false, 0.30))
                .signature());
  }

  /** Writes a signature for the clean VGG to {@code target}. */
  public static Path writeForClean(String corruption, Path target) {
    forClean(corruption).write(target);
    return target;
  }
}
