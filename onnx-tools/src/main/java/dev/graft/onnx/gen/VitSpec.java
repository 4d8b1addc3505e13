package dev.graft.onnx.gen;

import dev.graft.onnx.GraftException;

/**
 * The shape of a generated Vision Transformer.
 *
 * @param embed token width D
 * @param depth number of blocks
 * @param heads attention heads (must divide {@code embed})
 * @param mlp hidden width of each block's MLP
 * @param image input height and width in pixels
 * @param patch patch size (must divide {@code image})
 * @param channels input channels
 * @param classes outputs of the head
 * @param seed fixes every weight
 * @param statsq store the blocks' qkv, proj, fc1 and fc2 weights on StatsQ 2-bit levels
 */
public record VitSpec(
    int embed,
    int depth,
    int heads,
    int mlp,
    int image,
    int patch,
    int channels,
    int classes,
    long seed,
    boolean statsq) {

  public VitSpec {
    positive("embed", embed);
    positive("depth", depth);
    positive("heads", heads);
    positive("mlp", mlp);
    positive("image", image);
    positive("patch", patch);
    positive("channels", channels);
    positive("classes", classes);
    if (embed % heads != 0) {
      throw GraftException.invalid("--heads %d does not divide --embed %d", heads, embed);
    }
    if (image % patch != 0) {
      throw GraftException.invalid("--patch %d does not divide --image %d", patch, image);
    }
  }

  /**
   * DeiT-S: embed 384, 12 blocks, 6 heads, MLP 1536, 224x224 RGB in 16x16 patches, 1000 classes.
   */
  public static VitSpec deitSmall(long seed, boolean statsq) {
    return new VitSpec(384, 12, 6, 1536, 224, 16, 3, 1000, seed, statsq);
  }

  /** Tokens per image: the patches plus the class token. */
  public int tokens() {
    return (image / patch) * (image / patch) + 1;
  }

  private static void positive(String name, int v) {
    if (v <= 0) {
      throw GraftException.invalid("--%s must be positive, got %d", name, v);
    }
  }
}
