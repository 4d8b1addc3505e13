package dev.graft.onnx.ofq;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.StringStringEntryProto;
import java.util.List;
import java.util.Optional;

/**
 * What a packed model records about its packing, as JSON in the model's {@code metadata_props}
 * under {@link #KEY}: enough to read the codes back and to restore the original float graph.
 *
 * <p>Every value and initializer that packing adds has {@link #MARK} in its name, so the packed
 * parts can be found and removed without listing them; the values computing the replacement of
 * {@code nodes[i]} are named {@code #ofq.<i>.<role>}.
 *
 * @param version the manifest version (1)
 * @param format {@link PackFormat#id()}
 * @param weights the packed weights
 * @param nodes the MatMul/Gemm nodes that packing replaced, as they were
 */
public record OfqManifest(int version, String format, List<Weight> weights, List<Node> nodes) {
  /** The metadata key. */
  public static final String KEY = "graft.ofq";

  /** Part of the name of everything packing adds. */
  public static final String MARK = "#ofq.";

  private static final Gson GSON = new Gson();

  /**
   * One packed weight.
   *
   * @param layer the layer name
   * @param tensor the float weight's name
   * @param out output features (N)
   * @param in input features (K)
   * @param outIn whether the float weight was stored {@code [out, in]} (else {@code [in, out]})
   * @param blockSize nbits block size along the input features; 0 for dq
   * @param requantizedRows rows re-quantised post-training
   */
  public record Weight(
      String layer,
      String tensor,
      int out,
      int in,
      boolean outIn,
      int blockSize,
      int requantizedRows) {
    /** The tensor holding the codes. */
    public String codes() {
      return tensor + MARK + "codes";
    }

    /** The tensor holding the half scales {@code s/2} (one per block for nbits). */
    public String scales() {
      return tensor + MARK + "scales";
    }
  }

  /**
   * A replaced MatMul/Gemm node.
   *
   * @param name the node's name (may be empty)
   * @param op {@code MatMul} or {@code Gemm}
   * @param inputs the node's inputs
   * @param output the node's output
   * @param transB Gemm's {@code transB} (0 for MatMul)
   */
  public record Node(String name, String op, List<String> inputs, String output, int transB) {}

  public PackFormat packFormat() {
    return PackFormat.of(format);
  }

  public String toJson() {
    return GSON.toJson(this);
  }

  /** The manifest of a packed model, or empty for any other model. */
  public static Optional<OfqManifest> of(ModelProto model) {
    for (StringStringEntryProto e : model.getMetadataPropsList()) {
      if (e.getKey().equals(KEY)) {
        try {
          OfqManifest m = GSON.fromJson(e.getValue(), OfqManifest.class);
          if (m == null || m.weights() == null || m.nodes() == null || m.format() == null) {
            throw GraftException.invalid("model metadata %s is incomplete", KEY);
          }
          return Optional.of(m);
        } catch (JsonParseException | IllegalArgumentException ex) {
          throw GraftException.invalid("model metadata %s is not valid (%s)", KEY, ex.getMessage());
        }
      }
    }
    return Optional.empty();
  }
}
