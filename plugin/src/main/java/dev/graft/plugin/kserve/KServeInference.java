package dev.graft.plugin.kserve;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.Version;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.model.ServedModel;
import dev.graft.plugin.patch.RequestWeights;
import dev.graft.plugin.runtime.TensorResult;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The KServe v2 (Open Inference Protocol) operations, independent of the transport: REST and gRPC
 * both decode into an {@link InferRequest} and call this, so they compute identical results.
 *
 * <p>Every model has one version, {@value #VERSION}; an empty version means it, any other is not
 * found. Stateless apart from what it is given; thread safe.
 */
public final class KServeInference {
  public static final String VERSION = "1";
  public static final String SERVER_NAME = "graft";

  /** Protocol extensions: the REST binary tensor data, and per-request adapters. */
  public static final List<String> EXTENSIONS = List.of("binary_tensor_data", "graft_adapters");

  private final ModelRegistry registry;
  private final RequestWeights weights;
  private final BooleanSupplier ready;

  /**
   * @param ready whether the server is ready (false while it shuts down)
   */
  public KServeInference(ModelRegistry registry, RequestWeights weights, BooleanSupplier ready) {
    this.registry = registry;
    this.weights = weights;
    this.ready = ready;
  }

  /** The per-request weights (also used by {@code /predictions}). */
  public RequestWeights weights() {
    return weights;
  }

  public ModelRegistry registry() {
    return registry;
  }

  /** The server answers: always true while it can answer at all. */
  public boolean live() {
    return true;
  }

  public boolean ready() {
    return ready.getAsBoolean();
  }

  public ServerMetadata serverMetadata() {
    return new ServerMetadata(SERVER_NAME, Version.VERSION, EXTENSIONS);
  }

  /**
   * A model and version, if both exist.
   *
   * @throws GraftException {@code NOT_FOUND} for an unknown model or version
   */
  public ServedModel model(String name, String version) {
    ServedModel m = registry.get(name);
    if (version != null && !version.isEmpty() && !version.equals(VERSION)) {
      throw GraftException.notFound(
          "model %s has no version %s (versions: [%s])", name, version, VERSION);
    }
    return m;
  }

  /**
   * Whether the model is ready: registered models always are (they register once loaded).
   *
   * @throws GraftException {@code NOT_FOUND} for an unknown model or version
   */
  public boolean modelReady(String name, String version) {
    model(name, version);
    return ready();
  }

  /**
   * @throws GraftException {@code NOT_FOUND} for an unknown model or version
   */
  public ModelMetadata modelMetadata(String name, String version) {
    ServedModel m = model(name, version);
    return new ModelMetadata(
        m.name(), List.of(VERSION), platform(m), m.runtime().inputs(), m.outputs());
  }

  /**
   * Runs an inference.
   *
   * @param transportAdapters adapter selections the transport carried outside the request ({@code
   *     ?adapters=}, header {@value RequestWeights#HEADER}); they and the request's {@code
   *     adapters} parameter must agree
   * @throws GraftException {@code NOT_FOUND} for an unknown model or version, {@code
   *     INVALID_ARGUMENT} for inputs, outputs or adapters that do not fit the model, and whatever
   *     the runtime throws
   */
  public InferResponse infer(InferRequest request, List<String> transportAdapters) {
    ServedModel m = model(request.model(), request.version());
    Optional<String> selection = adapterSelection(request, transportAdapters);
    Set<String> outputs = new LinkedHashSet<>();
    for (InferRequest.RequestedOutput o : request.outputs()) {
      if (!outputs.add(o.name())) {
        throw GraftException.invalid("output %s is requested twice", o.name());
      }
    }
    TensorResult result =
        weights.run(
            m.adapters(),
            m.runtime(),
            selection,
            variant -> m.run(request.inputs(), outputs, variant));
    return new InferResponse(m.name(), VERSION, request.id(), result.weights(), result.outputs());
  }

  private static Optional<String> adapterSelection(
      InferRequest request, List<String> transportAdapters) {
    Set<String> given = new LinkedHashSet<>(transportAdapters);
    Object parameter = request.parameters().get(RequestWeights.PARAMETER);
    if (parameter != null) {
      if (!(parameter instanceof String s)) {
        throw GraftException.invalid(
            "parameter %s must be a string such as \"fog:0.5,noise\"", RequestWeights.PARAMETER);
      }
      given.add(s);
    }
    if (given.size() > 1) {
      throw GraftException.invalid("the request names different adapter sets: %s", given);
    }
    return given.stream().findFirst();
  }

  /** The KServe platform name of a model's engine. */
  private static String platform(ServedModel m) {
    return m.settings().isPyTorch() ? "pytorch_libtorch" : "onnxruntime_onnx";
  }
}
