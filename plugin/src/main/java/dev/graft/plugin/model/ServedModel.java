package dev.graft.plugin.model;

import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.head.HeadInference;
import dev.graft.plugin.head.ModelHead;
import dev.graft.plugin.ofq.OfqModel;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.Tensor;
import dev.graft.plugin.runtime.TensorResult;
import dev.graft.plugin.runtime.TensorSpec;
import dev.graft.plugin.runtime.WeightVariant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A registered model: its settings, its runtime and its adapters.
 *
 * <p>Owns the runtime (and through it every native object of the model: ONNX Runtime sessions or
 * the PyTorch module); {@link #close} closes it. Thread safe: the parts are themselves thread safe
 * and never replaced.
 *
 * @param name the model's name
 * @param url the reference it was registered from, as given
 * @param settings its {@code serving.properties}
 * @param runtime serves it ({@code OrtModelRuntime} or the PyTorch runtime)
 * @param adapters its RWS adapters, which hold the base weights
 * @param labels class names of {@code synset.txt}, empty when the folder has none
 * @param head the classifier head Graft applies to the runtime's features, if the model has one
 * @param ofq how a model packed by {@code graft ofq pack} runs its 2-bit weights; empty otherwise
 */
public record ServedModel(
    String name,
    String url,
    ModelSettings settings,
    ModelRuntime runtime,
    ModelAdapters adapters,
    List<String> labels,
    Optional<ModelHead> head,
    Optional<OfqModel> ofq)
    implements AutoCloseable {

  /** The DJL status of a registered model: it is only registered once it can serve. */
  public static final String READY = "READY";

  public ServedModel {
    labels = List.copyOf(labels);
  }

  /** The class name of output index {@code i}: the synset line, else the index. */
  public String label(int i) {
    return i < labels.size() ? labels.get(i) : Integer.toString(i);
  }

  // --- head support (see dev.graft.plugin.head): the runtime alone for models without a head ---

  /** The outputs clients see: with a head, its logits first, then the runtime's outputs. */
  public List<TensorSpec> outputs() {
    return head.map(h -> HeadInference.outputs(h, runtime.outputs())).orElse(runtime.outputs());
  }

  /** Runs one inference: the runtime, then the head (if any) on its features. */
  public InferenceResult infer(Map<String, FloatTensor> inputs, Set<String> outputs) {
    return head.isPresent()
        ? HeadInference.infer(head.get(), runtime, inputs, outputs)
        : runtime.infer(inputs, outputs);
  }

  /**
   * Runs one inference on tensors of any data type (KServe v2), the backbone on {@code variant}
   * (per-request weights) or on its live weights when null; then the head, if any.
   */
  public TensorResult run(List<Tensor> inputs, Set<String> outputs, WeightVariant variant) {
    return head.isPresent()
        ? HeadInference.run(head.get(), runtime, inputs, outputs, variant)
        : runtime.run(inputs, outputs, variant);
  }

  /** The {@code X-Graft-Weights} value new inferences carry. */
  public String weightsLabel() {
    String backbone = adapters.snapshot().weights();
    return head.map(h -> backbone + HeadInference.SEPARATOR + h.current().tag()).orElse(backbone);
  }

  @Override
  public void close() {
    runtime.close();
  }
}
