package dev.graft.plugin.http;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.image.Classification;
import dev.graft.plugin.image.ImagePreprocessor;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.model.ServedModel;
import dev.graft.plugin.patch.RequestWeights;
import dev.graft.plugin.runtime.Tensor;
import dev.graft.plugin.runtime.TensorResult;
import dev.graft.plugin.runtime.TensorSpec;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * {@code /predictions/{m}} (images to top-k; KServe v2 is {@link V2Endpoints}). Every inference
 * reply carries {@code X-Graft-Weights}. Stateless; thread safe.
 */
final class InferenceEndpoints {
  private final ModelRegistry registry;
  private final RequestWeights weights;

  InferenceEndpoints(ModelRegistry registry, RequestWeights weights) {
    this.registry = registry;
    this.weights = weights;
  }

  /** {@code POST /predictions/{m}} with a PNG/JPEG body, raw or multipart. */
  HttpReply predict(String model, HttpCall call) {
    ServedModel m = registry.get(model);
    if (!m.settings().classifiesImages()) {
      throw GraftException.precondition(
          "model %s has no translator; send tensors to /v2/models/%s/infer", model, model);
    }
    byte[] image =
        call.mediaType().startsWith("multipart/") ? Multipart.firstFile(call) : call.body();
    if (image.length == 0) {
      throw GraftException.invalid("the request has no image");
    }
    List<TensorSpec> inputs = m.runtime().inputs();
    if (inputs.size() != 1 || m.outputs().isEmpty()) {
      throw GraftException.precondition(
          "model %s has %d inputs; image classification needs exactly one", model, inputs.size());
    }
    FloatTensor x =
        new ImagePreprocessor(m.settings().image()).toTensor(image, inputs.get(0).name());
    String output = m.outputs().get(0).name();
    List<String> selection = V2Endpoints.transportAdapters(call);
    if (selection.size() > 1 && !selection.get(0).equals(selection.get(1))) {
      throw GraftException.invalid("the request names different adapter sets: %s", selection);
    }
    TensorResult result =
        weights.run(
            m.adapters(),
            m.runtime(),
            selection.stream().findFirst(),
            variant -> m.run(List.of(Tensor.of(x)), Set.of(output), variant));
    float[] logits = result.outputs().get(0).toFloatTensor().data();
    List<String> labels = result.labels(); // a head's labels, of the version that computed logits
    IntFunction<String> label = i -> i < labels.size() ? labels.get(i) : m.label(i);
    List<Classification> top = Classification.topK(logits, m.settings().topK(), label);
    return HttpReply.ok(top).withHeader(HttpReply.X_GRAFT_WEIGHTS, result.weights());
  }
}
