package dev.graft.plugin.head;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.Tensor;
import dev.graft.plugin.runtime.TensorResult;
import dev.graft.plugin.runtime.TensorSpec;
import dev.graft.plugin.runtime.WeightVariant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Inference of a model with a head: the backbone computes the features, the head version current at
 * the start of the request turns them into logits.
 *
 * <p>Clients see the head's logits {@code [N, C]} as the model's first output (named by {@code
 * graft.head.output}), followed by the backbone's outputs. The result's weights label is the
 * backbone's (its adapters, or {@code base}) followed by {@code ;} and the head version's {@link
 * HeadVersion#tag() tag}, e.g. {@code base;head:digits@v2}, and its labels are that version's
 * labels. Stateless.
 */
public final class HeadInference {
  /** Separates the backbone's weights label from the head's tag in {@code X-Graft-Weights}. */
  public static final String SEPARATOR = ";";

  private HeadInference() {}

  /**
   * The outputs of a model with this head: the logits (batch and class count dynamic), then the
   * backbone's.
   */
  public static List<TensorSpec> outputs(ModelHead head, List<TensorSpec> backbone) {
    List<TensorSpec> all = new ArrayList<>();
    all.add(new TensorSpec(head.settings().output(), "FP32", new long[] {-1, -1}));
    all.addAll(backbone);
    return List.copyOf(all);
  }

  /**
   * Checks at load time that the backbone can feed the head.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when the feature output is missing, not
   *     float32, or of another width than the head, or when the logits output name is taken
   */
  public static void checkBackbone(ModelHead head, List<TensorSpec> backbone) {
    HeadSettings s = head.settings();
    TensorSpec features =
        backbone.stream()
            .filter(t -> t.name().equals(s.features()))
            .findFirst()
            .orElseThrow(
                () ->
                    GraftException.invalid(
                        "model %s: graft.head.features=%s is not an output of the backbone"
                            + " (outputs: %s)",
                        head.model(),
                        s.features(),
                        backbone.stream().map(TensorSpec::name).toList()));
    if (!features.datatype().equals("FP32")) {
      throw GraftException.invalid(
          "model %s: feature output %s is %s; a head reads FP32 features",
          head.model(), features.name(), features.datatype());
    }
    long[] shape = features.shape();
    long width = 1;
    for (int i = 1; i < shape.length; i++) {
      width = shape[i] < 0 || width < 0 ? -1 : width * shape[i];
    }
    if (shape.length < 2 || (width >= 0 && width != head.featureDim())) {
      throw GraftException.invalid(
          "model %s: feature output %s has shape %s but head %s takes [N, %d]",
          head.model(), features.name(), Arrays.toString(shape), head.name(), head.featureDim());
    }
    if (backbone.stream().anyMatch(t -> t.name().equals(s.output()))) {
      throw GraftException.invalid(
          "model %s: the backbone already has an output named %s; choose another"
              + " graft.head.output",
          head.model(), s.output());
    }
  }

  /**
   * The backbone outputs a request for {@code wanted} needs (empty: all): the wanted ones, plus the
   * features when the head's logits are among them.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for an output name neither has
   */
  private static Set<String> fromBackbone(
      ModelHead head, ModelRuntime backbone, Set<String> wanted) {
    String logitsName = head.settings().output();
    Set<String> fromBackbone = new LinkedHashSet<>(wanted);
    fromBackbone.remove(logitsName);
    List<String> known = backbone.outputs().stream().map(TensorSpec::name).toList();
    if (!known.containsAll(fromBackbone)) {
      fromBackbone.removeAll(known);
      throw GraftException.invalid(
          "%s has no output named %s (outputs: %s)",
          head.model(),
          fromBackbone,
          outputs(head, backbone.outputs()).stream().map(TensorSpec::name).toList());
    }
    if (wanted.contains(logitsName)) {
      fromBackbone.add(head.settings().features());
    }
    return fromBackbone;
  }

  /**
   * Runs one request.
   *
   * @param wanted the outputs to return; empty for all
   * @throws GraftException {@code INVALID_ARGUMENT} for bad inputs or an unknown output name
   */
  public static InferenceResult infer(
      ModelHead head, ModelRuntime backbone, Map<String, FloatTensor> inputs, Set<String> wanted) {
    HeadVersion version = head.current(); // read once: every row of this request uses it
    String logitsName = head.settings().output();
    boolean all = wanted.isEmpty();
    boolean wantLogits = all || wanted.contains(logitsName);
    Set<String> fromBackbone = fromBackbone(head, backbone, wanted);
    InferenceResult features = backbone.infer(inputs, fromBackbone);
    List<FloatTensor> outputs = new ArrayList<>();
    if (wantLogits) {
      outputs.add(logits(version, logitsName, find(features, head.settings().features())));
    }
    for (FloatTensor t : features.outputs()) {
      if (all || wanted.contains(t.name())) {
        outputs.add(t);
      }
    }
    return new InferenceResult(
        features.weights() + SEPARATOR + version.tag(), outputs, version.classifier().labels());
  }

  /**
   * Runs one request on tensors of any data type, the backbone on {@code variant} (or its live
   * weights when null); the same as {@link #infer} otherwise.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for bad inputs or an unknown output name
   */
  public static TensorResult run(
      ModelHead head,
      ModelRuntime backbone,
      List<Tensor> inputs,
      Set<String> wanted,
      WeightVariant variant) {
    HeadVersion version = head.current(); // read once: every row of this request uses it
    String logitsName = head.settings().output();
    boolean all = wanted.isEmpty();
    boolean wantLogits = all || wanted.contains(logitsName);
    Set<String> fromBackbone = fromBackbone(head, backbone, wanted);
    TensorResult features = backbone.run(inputs, fromBackbone, variant);
    List<Tensor> outputs = new ArrayList<>();
    if (wantLogits) {
      Tensor f =
          features.outputs().stream()
              .filter(t -> t.name().equals(head.settings().features()))
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("the backbone did not return features"));
      outputs.add(Tensor.of(logits(version, logitsName, f.toFloatTensor())));
    }
    for (Tensor t : features.outputs()) {
      if (all || wanted.contains(t.name())) {
        outputs.add(t);
      }
    }
    return new TensorResult(
        features.weights() + SEPARATOR + version.tag(), outputs, version.classifier().labels());
  }

  private static FloatTensor logits(HeadVersion version, String name, FloatTensor features) {
    long[] dims = features.dims();
    int rows = dims.length == 0 ? 0 : Math.toIntExact(dims[0]);
    int dim = version.classifier().featureDim();
    if (dims.length < 2 || features.data().length != (long) rows * dim) {
      throw GraftException.precondition(
          "feature output %s has shape %s but head %s takes [N, %d]",
          features.name(), features.shapeString(), version.head(), dim);
    }
    float[] logits = version.classifier().logits(features.data(), rows);
    return new FloatTensor(name, new long[] {rows, version.classifier().classes()}, logits);
  }

  private static FloatTensor find(InferenceResult result, String name) {
    return result.outputs().stream()
        .filter(t -> t.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("the backbone did not return " + name));
  }
}
