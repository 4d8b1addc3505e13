package dev.graft.plugin.bench;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.gen.VitGenerator;
import dev.graft.onnx.gen.VitSpec;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ByteDeltas;
import dev.graft.plugin.runtime.DeltaLevels;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A benchmark model with its patches: the MNIST VGG fixture with its real gaussian_noise RWS
 * signature (keep 4, 256 levels), or a DeiT-S-sized ViT from {@link VitGenerator} (random weights,
 * fixed seed) with an RWS-shaped synthetic patch of its first four weight layers (patch embedding,
 * block 0 qkv, proj, fc1; weight and bias): random deltas from 256 quantisation levels, added as
 * {@code RwsPatch} adds one signature. Variant {@code i} is the base plus {@code alpha_i} times the
 * patch, so every variant holds different weights. Immutable.
 *
 * @param key {@code vgg} or {@code vit}
 * @param file the served model file
 * @param patched tensor names a patch replaces
 * @param input one input image, batch 1
 */
record Subject(String key, Path file, List<String> patched, FloatTensor input) {
  static final String VGG = "vgg";
  static final String VIT = "vit";
  static final int VARIANTS = 8;

  /** The generated ViT's weights seed: the same file on every run. */
  static final long VIT_SEED = 20261127;

  /** The work folder property the launcher passes to forked JVMs and probes. */
  static final String WORK = "graft.bench.work";

  static Path work() {
    String dir = System.getProperty(WORK);
    if (dir == null) {
      throw new IllegalStateException("-D" + WORK + " is not set");
    }
    return Path.of(dir);
  }

  /** The subject; generates the ViT into {@code work} on first use. */
  static Subject of(String key, Path work) {
    return switch (key) {
      case VGG ->
          new Subject(
              VGG,
              Fixtures.vgg("clean"),
              vggLayers(),
              new FloatTensor("input", new long[] {1, 1, 28, 28}, Fixtures.testImages("", 1)));
      case VIT -> {
        Path file = work.resolve("deit-s.onnx");
        if (!Files.isRegularFile(file)) {
          VitGenerator.generate(VitSpec.deitSmall(VIT_SEED, false)).save(file);
        }
        float[] image = new float[3 * 224 * 224];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < image.length; i++) {
          image[i] = (float) r.nextDouble();
        }
        yield new Subject(
            VIT, file, vitLayers(), new FloatTensor("input", new long[] {1, 3, 224, 224}, image));
      }
      default -> throw new IllegalArgumentException("unknown bench model " + key);
    };
  }

  /** The model's settings for every runtime of the benchmark, with the split option given. */
  ModelSettings settings(String split) {
    return ModelSettings.parse(Map.of("option.graft.split", split), "bench");
  }

  /** As {@link #settings(String)}, with lean stems (no pre-packing) when {@code lean}. */
  ModelSettings settings(String split, boolean lean) {
    return ModelSettings.parse(
        Map.of("option.graft.split", split, "option.graft.split.prepack", Boolean.toString(!lean)),
        "bench");
  }

  ModelFile read() {
    return ModelFile.read(file);
  }

  Map<String, FloatTensor> feeds() {
    return Map.of("input", input);
  }

  /**
   * {@link #VARIANTS} different weight sets: base + alpha_i * patch, alpha_i = 0.25 (i + 1), each
   * with its change as byte deltas ({@link Weights#deltas}), as a server makes them from one
   * attached signature re-scaled: every scale shares the signature's index arrays ({@link
   * DeltaLevels}).
   */
  List<Weights> variants(OnnxModel model) {
    Map<String, DeltaLevels> levels = levels(model);
    List<Weights> out = new ArrayList<>();
    for (int i = 0; i < VARIANTS; i++) {
      double alpha = 0.25 * (i + 1);
      Map<String, ByteDeltas> deltas = DeltaLevels.scaled(levels, alpha);
      List<FloatTensor> overrides = new ArrayList<>();
      deltas.forEach(
          (name, d) -> {
            FloatTensor base = model.floatTensor(name);
            overrides.add(new FloatTensor(name, base.dims(), d.apply(base.data())));
          });
      if (key.equals(VGG)) {
        // the server's path: RwsPatch, the same values
        List<FloatTensor> applied =
            RwsPatch.apply(
                model::floatTensor,
                List.of(new RwsPatch.Term(Fixtures.signature("gaussian_noise"), alpha)));
        for (int t = 0; t < applied.size(); t++) {
          if (!Arrays.equals(applied.get(t).data(), overrides.get(t).data())) {
            throw new IllegalStateException("byte deltas differ from RwsPatch on " + t);
          }
        }
      }
      out.add(new Weights(key + "@" + alpha, overrides, deltas));
    }
    return out;
  }

  /** {@code w} with copies of its index arrays: byte deltas no runtime has seen. */
  static Weights ownIndexes(Weights w) {
    Map<String, ByteDeltas> copies = new LinkedHashMap<>();
    w.deltas().forEach((n, d) -> copies.put(n, new ByteDeltas(d.table(), d.index().clone())));
    return new Weights(w.label(), w.overrides(), copies);
  }

  private Map<String, DeltaLevels> levels(OnnxModel model) {
    if (key.equals(VGG)) {
      return DeltaLevels.of(Fixtures.signature("gaussian_noise")).orElseThrow();
    }
    // RWS-shaped: one signature of 256 quantisation levels, added as RwsPatch adds one term
    float[] levels = new float[256];
    for (int k = 0; k < levels.length; k++) {
      levels[k] = (float) (3e-3 * (k - 127.5) / 127.5);
    }
    Map<String, DeltaLevels> out = new LinkedHashMap<>();
    for (String name : patched) {
      float[] delta = new float[model.floatTensor(name).data().length];
      SplittableRandom r = new SplittableRandom(name.hashCode());
      for (int i = 0; i < delta.length; i++) {
        delta[i] = levels[r.nextInt(levels.length)];
      }
      out.put(name, DeltaLevels.of(delta).orElseThrow());
    }
    return out;
  }

  private static List<String> vggLayers() {
    return Fixtures.signature("gaussian_noise").deltas().stream().map(FloatTensor::name).toList();
  }

  private static List<String> vitLayers() {
    List<String> names = new ArrayList<>();
    for (String layer : List.of("patch_embed", "blocks.0.qkv", "blocks.0.proj", "blocks.0.fc1")) {
      names.add(layer + ".weight");
      names.add(layer + ".bias");
    }
    return names;
  }

  /** Bytes of float32 data one variant replaces. */
  long patchedBytes(OnnxModel model) {
    long bytes = 0;
    for (String t : patched) {
      long n = 1;
      for (long d : model.dims(t)) {
        n *= d;
      }
      bytes += 4 * n;
    }
    return bytes;
  }

  /** Layer names of {@code model} whose weights a patch of this subject replaces (reports). */
  List<String> patchedLayers(OnnxModel model) {
    List<String> layers = new ArrayList<>();
    Map<String, String> byWeight = new HashMap<>();
    for (WeightLayer l : model.layers()) {
      byWeight.put(l.weight(), l.name());
    }
    for (String t : patched) {
      if (byWeight.containsKey(t)) {
        layers.add(byWeight.get(t));
      }
    }
    return layers;
  }
}
