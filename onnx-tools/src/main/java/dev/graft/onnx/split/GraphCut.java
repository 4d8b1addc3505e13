package dev.graft.onnx.split;

import dev.graft.onnx.GraftException;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Where a graph is split: the tensors that flow from the stem to the body.
 *
 * <p>Every path from a graph input to a graph output that runs through a computed (non-constant)
 * tensor must cross one of these tensors, except paths that start at a graph input which the body
 * reads directly (it is passed to both parts). Immutable.
 *
 * @param tensors the cut tensors' names, in the order the stem outputs them; non-empty, distinct
 */
public record GraphCut(List<String> tensors) {

  public GraphCut {
    if (tensors.isEmpty()) {
      throw GraftException.invalid("a cut names at least one tensor");
    }
    if (new LinkedHashSet<>(tensors).size() != tensors.size()) {
      throw GraftException.invalid("a cut names each tensor once, got %s", tensors);
    }
    for (String t : tensors) {
      if (t == null || t.isEmpty()) {
        throw GraftException.invalid("a cut tensor name is empty in %s", tensors);
      }
    }
    tensors = List.copyOf(tensors);
  }

  /** Parses a comma-separated list of tensor names, e.g. the {@code --cut} option. */
  public static GraphCut parse(String commaSeparated) {
    List<String> names =
        java.util.Arrays.stream(commaSeparated.split(",")).map(String::strip).toList();
    return new GraphCut(names);
  }

  @Override
  public String toString() {
    return String.join(",", tensors);
  }
}
