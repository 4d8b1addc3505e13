package dev.graft.plugin.kserve;

import dev.graft.plugin.runtime.TensorSpec;
import java.util.List;

/** A model as the v2 metadata endpoints describe it. */
public record ModelMetadata(
    String name,
    List<String> versions,
    String platform,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs) {
  public ModelMetadata {
    versions = List.copyOf(versions);
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }
}
