package dev.graft.cli;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.gen.VitGenerator;
import dev.graft.onnx.gen.VitSpec;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code graft gen ...}: models with random weights for benchmarks. */
@Command(
    name = "gen",
    description = "Generate models with seeded random weights (for benchmarks).",
    subcommands = {GenCommand.Vit.class})
final class GenCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "vit",
      description = {
        "A DeiT-style ViT (defaults: DeiT-S, 224x224, 197 tokens); --statsq puts the blocks'"
            + " qkv/proj/fc1/fc2 weights on StatsQ 2-bit levels, ready for graft ofq pack."
      })
  static final class Vit implements Runnable {
    @Option(names = "--embed", defaultValue = "384")
    int embed;

    @Option(names = "--depth", defaultValue = "12")
    int depth;

    @Option(names = "--heads", defaultValue = "6")
    int heads;

    @Option(names = "--mlp", defaultValue = "1536")
    int mlp;

    @Option(names = "--image", defaultValue = "224")
    int image;

    @Option(names = "--patch", defaultValue = "16")
    int patch;

    @Option(names = "--channels", defaultValue = "3")
    int channels;

    @Option(names = "--classes", defaultValue = "1000")
    int classes;

    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Option(names = "--statsq", description = "StatsQ 2-bit block weights (fake-quant).")
    boolean statsq;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "OUT.onnx")
    Path output;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      VitSpec s =
          new VitSpec(embed, depth, heads, mlp, image, patch, channels, classes, seed, statsq);
      OnnxModel m = VitGenerator.generate(s);
      m.save(output);
      spec.commandLine()
          .getOut()
          .printf("%s: %s, %,d bytes%n", output, m.source(), m.proto().getSerializedSize());
    }
  }
}
