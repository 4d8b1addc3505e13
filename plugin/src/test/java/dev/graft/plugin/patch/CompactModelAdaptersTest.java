package dev.graft.plugin.patch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On a runtime that stores compact states, one attached signature's weights carry byte deltas. */
class CompactModelAdaptersTest {
  @TempDir Path weightCache;

  private static Adapter adapter(String name, String corruption, double alpha, boolean attached) {
    RwsSignature s = Fixtures.signature(corruption);
    SignatureSource.Loaded loaded = SignatureSource.fromBody(s.toByteArray());
    return new Adapter(name, "vgg", loaded.source(), alpha, attached, false, loaded.signature());
  }

  private final ModelFile file = ModelFile.read(Fixtures.vgg("clean"));

  /** The split VGG, storing compact states or exact stems. */
  private SplitOrtModelRuntime open(String compact) {
    return SplitOrtModelRuntime.open(
        "vgg",
        file,
        ModelSettings.parse(
            Map.of("option.graft.split", "on", "option.graft.split.compact", compact), "test"),
        weightCache);
  }

  @Test
  void oneAttachedSignatureGivesByteDeltasForEveryTensorItReplaces() {
    try (SplitOrtModelRuntime compact = open("true")) {
      ModelAdapters adapters = new ModelAdapters("vgg", file.model(), compact);
      TreeMap<String, Adapter> one = new TreeMap<>();
      one.put("noise", adapter("noise", "gaussian_noise", 0.75, true));
      one.put("blur", adapter("blur", "gaussian_blur", 0.5, false)); // detached: not a term

      Weights w = adapters.weightsOf(one);

      assertThat(w.deltas().keySet())
          .containsExactlyInAnyOrderElementsOf(
              w.overrides().stream().map(FloatTensor::name).toList());
      for (FloatTensor t : w.overrides()) {
        float[] fromDeltas =
            w.deltas().get(t.name()).apply(file.model().floatTensor(t.name()).data());
        assertThat(fromDeltas).as(t.name()).containsExactly(t.data());
      }

      one.put("blur", one.get("blur").withAttached(true));
      assertThat(adapters.weightsOf(one).deltas())
          .as("two signatures' sum is not one table: the runtime searches")
          .isEmpty();
    }
  }

  @Test
  void rescalingASignatureKeepsItsIndexArraysUntilItIsRemoved() {
    try (SplitOrtModelRuntime compact = open("true")) {
      ModelAdapters adapters = new ModelAdapters("vgg", file.model(), compact);
      SignatureSource.Loaded loaded =
          SignatureSource.fromBody(Fixtures.signature("gaussian_noise").toByteArray());
      adapters.register("noise", loaded, 0.75, true, false);
      Weights atFirst = adapters.weightsOf(only(adapters.get("noise")));

      Adapter rescaled = adapters.update("noise", OptionalDouble.of(1.5), Optional.empty());
      Weights afterRescale = adapters.weightsOf(only(rescaled));
      for (String t : atFirst.deltas().keySet()) {
        assertThat(afterRescale.deltas().get(t).index())
            .as("%s: a new scale, the same index array (a runtime keeps its tensor)", t)
            .isSameAs(atFirst.deltas().get(t).index());
        assertThat(afterRescale.deltas().get(t).table())
            .as("%s: only the table scales", t)
            .isNotEqualTo(atFirst.deltas().get(t).table());
      }

      adapters.remove("noise");
      Weights afterRemoval = adapters.weightsOf(only(rescaled));
      for (String t : atFirst.deltas().keySet()) {
        assertThat(afterRemoval.deltas().get(t).index())
            .as("%s: forgotten with the adapter, computed again", t)
            .isNotSameAs(atFirst.deltas().get(t).index())
            .isEqualTo(atFirst.deltas().get(t).index());
      }
    }
  }

  private static TreeMap<String, Adapter> only(Adapter a) {
    TreeMap<String, Adapter> set = new TreeMap<>();
    set.put(a.name(), a);
    return set;
  }

  @Test
  void otherRuntimesGetNoByteDeltas() {
    try (SplitOrtModelRuntime exact = open("false")) {
      TreeMap<String, Adapter> one = new TreeMap<>();
      one.put("noise", adapter("noise", "gaussian_noise", 0.75, true));
      assertThat(new ModelAdapters("vgg", file.model(), exact).weightsOf(one).deltas()).isEmpty();
    }
  }
}
