package dev.graft.plugin.bench;

import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import dev.graft.plugin.runtime.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Time to patched, in process; each invocation moves to the next of 8 different weight sets. {@link
 * #rebuild}: until the new weights are live (every inference that starts later gets them); {@link
 * #firstResponse}: until the first inference they serve (one image) has returned.
 *
 * <ul>
 *   <li>{@code stem}: {@link SplitOrtModelRuntime#swapWeights}: a new stem session on the shared
 *       body; the old stem closes.
 *   <li>{@code compact}: {@link SplitOrtModelRuntime#swapWeights} with {@code
 *       option.graft.split.compact=true}: no session is built; the replaced tensors' byte deltas
 *       over the base, given with the weights as a server gives them for one attached signature
 *       ({@code Weights.deltas}, {@code ByteDeltas}), become the input tensors of the shared delta
 *       stem, which computes the patched weights in every inference. Set-up opens each weight set
 *       once as a variant and fails unless all are compact, which also builds the delta stem (once
 *       per model, not per patch) before any invocation. The 8 sets are scales of one signature, so
 *       they share its index arrays ({@code DeltaLevels}), whose tensors the delta stem keeps: a
 *       measured swap writes only the tables.
 *   <li>{@code compactnew}: the same, each invocation's weights with index arrays never seen before
 *       (copies, made before the timer starts), as a signature's first patch has: the delta stem
 *       creates its index tensors.
 *   <li>{@code whole}: {@link OrtModelRuntime#swapWeights}: a new whole-model session, as before
 *       the split; the old session closes.
 *   <li>{@code reload}: the baseline: unload the model, then load the patched model file, as {@code
 *       DELETE} then {@code POST /models} would.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class PatchBench {
  @Param({Subject.VGG, Subject.VIT})
  public String model;

  @Param({"stem", "compact", "compactnew", "whole", "reload"})
  public String path;

  private Subject subject;
  private ModelRuntime runtime;
  private List<Weights> variants;
  private final List<Path> patchedFiles = new ArrayList<>();
  private ModelRuntime reloaded;
  private int next;
  private Weights prepared;

  @Setup(Level.Trial)
  public void setUp() {
    Path work = Subject.work();
    subject = Subject.of(model, work);
    ModelFile file = subject.read();
    variants = subject.variants(file.model());
    switch (path) {
      case "stem" ->
          runtime =
              SplitOrtModelRuntime.open(model, file, subject.settings("on"), work.resolve("cache"));
      case "compact", "compactnew" -> runtime = openCompact(file, work);
      case "whole" -> runtime = OrtModelRuntime.open(model, file, subject.settings("off"));
      case "reload" -> {
        for (Weights w : variants) {
          Path p = work.resolve(model + "-" + w.label().replace('@', '-') + ".onnx");
          if (!Files.isRegularFile(p)) {
            file.model().withTensors(w.overrides()).save(p);
          }
          patchedFiles.add(p);
        }
      }
      default -> throw new IllegalArgumentException(path);
    }
  }

  private SplitOrtModelRuntime openCompact(ModelFile file, Path work) {
    SplitOrtModelRuntime split =
        SplitOrtModelRuntime.open(
            model,
            file,
            ModelSettings.parse(
                Map.of("option.graft.split", "on", "option.graft.split.compact", "true"), "bench"),
            work.resolve("cache"));
    try {
      for (Weights w : variants) {
        try (SplitOrtModelRuntime.Variant v = split.openVariant(w)) {
          if (!v.isCompact()) {
            throw new IllegalStateException(
                model + ": weights " + w.label() + " do not encode as byte deltas");
          }
        }
      }
      return split;
    } catch (RuntimeException e) {
      split.close();
      throw e;
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (runtime != null) {
      runtime.close();
    }
    if (reloaded != null) {
      reloaded.close();
    }
  }

  /** For {@code compactnew}: the next invocation's weights, with fresh index arrays. */
  @Setup(Level.Invocation)
  public void prepare() {
    if (path.equals("compactnew")) {
      prepared = Subject.ownIndexes(variants.get(next % Subject.VARIANTS));
    }
  }

  @Benchmark
  public ModelRuntime rebuild() {
    int i = next++ % Subject.VARIANTS;
    if (runtime != null) {
      runtime.swapWeights(prepared != null ? prepared : variants.get(i));
      return runtime;
    }
    if (reloaded != null) {
      reloaded.close();
    }
    reloaded =
        OrtModelRuntime.open(model, ModelFile.read(patchedFiles.get(i)), subject.settings("off"));
    return reloaded;
  }

  @Benchmark
  public float firstResponse() {
    return rebuild().infer(subject.feeds(), Set.of()).outputs().get(0).data()[0];
  }
}
