package dev.graft.plugin.http;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.image.Classification;
import dev.graft.plugin.image.ImagePreprocessor;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.model.ServedModel;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.TensorSpec;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code /predictions/{m}} (images to top-k) and KServe v2 {@code /v2/models/{m}[/ready|/infer]}.
 * Every inference reply carries {@code X-Graft-Weights}. Stateless; thread safe.
 */
final class InferenceEndpoints {
  private final ModelRegistry registry;

  InferenceEndpoints(ModelRegistry registry) {
    this.registry = registry;
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
    if (inputs.size() != 1 || m.runtime().outputs().isEmpty()) {
      throw GraftException.precondition(
          "model %s has %d inputs; image classification needs exactly one", model, inputs.size());
    }
    FloatTensor x =
        new ImagePreprocessor(m.settings().image()).toTensor(image, inputs.get(0).name());
    String output = m.runtime().outputs().get(0).name();
    InferenceResult result = m.runtime().infer(Map.of(x.name(), x), Set.of(output));
    float[] logits = result.outputs().get(0).data();
    List<Classification> top = Classification.topK(logits, m.settings().topK(), m::label);
    return HttpReply.ok(top).withHeader(HttpReply.X_GRAFT_WEIGHTS, result.weights());
  }

  /** {@code POST /v2/models/{m}/infer}. */
  HttpReply infer(String model, HttpCall call) {
    ServedModel m = registry.get(model);
    KServeCodec.Request request = KServeCodec.read(call.body());
    InferenceResult result = m.runtime().infer(request.inputs(), request.outputs());
    byte[] body = KServeCodec.write(m.name(), request.id(), result.outputs());
    return new HttpReply(HttpResponseStatus.OK, HttpReply.JSON, body, Map.of())
        .withHeader(HttpReply.X_GRAFT_WEIGHTS, result.weights());
  }

  /** {@code GET /v2/models/{m}}. */
  HttpReply metadata(String model) {
    ServedModel m = registry.get(model);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", m.name());
    v.put("versions", List.of("1"));
    v.put("platform", m.settings().isPyTorch() ? "pytorch_libtorch" : "onnxruntime_onnx");
    v.put("inputs", Views.specs(m.runtime().inputs()));
    v.put("outputs", Views.specs(m.runtime().outputs()));
    return HttpReply.ok(v);
  }

  /** {@code GET /v2/models/{m}/ready}: 200 once registered (models register only when ready). */
  HttpReply ready(String model) {
    ServedModel m = registry.get(model);
    return HttpReply.ok(Map.of("name", m.name(), "ready", true));
  }
}
