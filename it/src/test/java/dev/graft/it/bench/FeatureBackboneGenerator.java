package dev.graft.it.bench;

import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.proto.TensorProto;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Builds, with onnx-tools' {@link GraphBuilder}, a feature extractor whose output {@code features}
 * is {@code [N, width]}: MNIST-shaped input {@code input [N,1,28,28]}, flattened, a linear stem
 * 784→width with ReLU, then {@code blocks} residual MLP blocks (width→4·width, ReLU, 4·width→width,
 * added back), opset 17. With width 768 and 4 blocks it has 19.5M parameters (78 MB), the size
 * class of a ViT-S/16 backbone, so that building its session costs what reloading a real backbone
 * costs.
 *
 * <p>Only for benchmarks: the weights are seeded noise.
 */
public final class FeatureBackboneGenerator {
  private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;

  private final GraphBuilder g = new GraphBuilder("feature_backbone");
  private final SplittableRandom random;

  private FeatureBackboneGenerator(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** The serialised model; {@code seed} fixes the weights. */
  public static byte[] generate(int width, int blocks, long seed) {
    if (blocks < 1 || width < 1) {
      throw new IllegalArgumentException("need width >= 1 and blocks >= 1");
    }
    return new FeatureBackboneGenerator(seed).build(width, blocks);
  }

  /** The number of weights and biases of a generated model. */
  public static long parameters(int width, int blocks) {
    return 784L * width + width + blocks * (8L * width * width + 5L * width);
  }

  private byte[] build(int width, int blocks) {
    String input = g.input("input", FLOAT, "N", 1, 28, 28);
    String flat =
        g.node("Reshape").name("flatten").in(input, g.int64s("flat_shape", -1, 784)).to("flat");
    String h = g.node("Relu").name("stem.relu").in(linear("stem", flat, 784, width)).to("stem.out");
    for (int b = 0; b < blocks; b++) {
      String p = "blocks." + b;
      String up = linear(p + ".fc1", h, width, 4 * width);
      String act = g.node("Relu").name(p + ".relu").in(up).to(p + ".act");
      String down = linear(p + ".fc2", act, 4 * width, width);
      String out = b == blocks - 1 ? "features" : p + ".out";
      h = g.node("Add").name(p + ".residual").in(h, down).to(out);
    }
    g.output(h, "features", FLOAT, "N", width);
    return g.model(8, Map.of("", 17L), "graft-bench").toByteArray();
  }

  /** {@code x · W + b} with W {@code [in, out]}; returns the output name. */
  private String linear(String name, String x, int in, int out) {
    String w = weight(name + ".weight", Math.sqrt(2.0 / in), in, out);
    String b = weight(name + ".bias", 0.0, out);
    String mm = g.node("MatMul").name(name + ".matmul").in(x, w).to(name + ".mm");
    return g.node("Add").name(name + ".add").in(mm, b).to(name + ".y");
  }

  private String weight(String name, double std, long... dims) {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    float[] values = new float[Math.toIntExact(n)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (std * gaussian());
    }
    return g.init(Protos.floats(name, dims, values));
  }

  private double gaussian() {
    // Box-Muller on the seeded generator, so the model is the same on every run
    double u = 1.0 - random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
  }
}
