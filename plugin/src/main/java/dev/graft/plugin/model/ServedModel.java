package dev.graft.plugin.model;

import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.runtime.ModelRuntime;
import java.util.List;

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
 */
public record ServedModel(
    String name,
    String url,
    ModelSettings settings,
    ModelRuntime runtime,
    ModelAdapters adapters,
    List<String> labels)
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

  @Override
  public void close() {
    runtime.close();
  }
}
