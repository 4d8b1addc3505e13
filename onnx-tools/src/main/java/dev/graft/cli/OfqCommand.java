package dev.graft.cli;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.Comparison;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.ofq.LayerVerdict;
import dev.graft.onnx.ofq.OfqPacker;
import dev.graft.onnx.ofq.PackFormat;
import dev.graft.onnx.ofq.PackedModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft ofq ...}: pack OFQ 2-bit ViTs to real 2-bit storage, and check the result. */
@Command(
    name = "ofq",
    description = "2-bit OFQ models: pack StatsQ weights to 2-bit storage, verify.",
    subcommands = {OfqCommand.Pack.class, OfqCommand.Verify.class})
final class OfqCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "pack",
      description = {
        "Pack every MatMul/Gemm weight whose rows hold StatsQ 2-bit levels s*(k+0.5)/2,"
            + " k in -2..1, into 2-bit storage; every other tensor is kept as it is.",
        "Nothing is written when the model cannot be packed (exit 2)."
      })
  static final class Pack implements Runnable {
    @Parameters(paramLabel = "IN.onnx")
    Path input;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "OUT.onnx")
    Path output;

    @Option(
        names = "--format",
        defaultValue = "auto",
        paramLabel = "nbits|dq|auto",
        description = {
          "nbits: com.microsoft.MatMulNBits, bits=2; dq: ONNX DequantizeLinear on INT2"
              + " (opset 25); auto (default): the first of dq, nbits that ONNX Runtime runs"
              + " bit-exactly, checked on ONNX Runtime."
        })
    String format;

    @Option(
        names = "--block-size",
        defaultValue = "0",
        paramLabel = "B",
        description = "nbits block size 16, 32, 64 or 128 (default: smallest file per layer).")
    int blockSize;

    @Option(
        names = "--accuracy-level",
        defaultValue = "0",
        paramLabel = "L",
        description =
            "nbits accuracy_level: 0 (default) computes in float32 and is exact; 4 quantises"
                + " activations to int8 (faster, not exact).")
    int accuracyLevel;

    @Option(
        names = "--allow-requantize",
        description = {
          "Re-quantise with StatsQ post-training (s = 2*mean|W| per row) the rows that are not on"
              + " StatsQ levels: stray rows of 2-bit weights, and every MatMul/Gemm weight but the"
              + " first and last layer. Their weights change."
        })
    boolean allowRequantize;

    @Option(
        names = "--compact",
        negatable = true,
        defaultValue = "true",
        fallbackValue = "true",
        description = {
          "Store Constant nodes as initializers and give intermediate values short names"
              + " (default; node names and initializers are kept). --no-compact keeps the graph"
              + " as it is."
        })
    boolean compact;

    @Option(
        names = "--verify",
        paramLabel = "X.idx3-ubyte[.gz]",
        description =
            "Run both models on these images first and write only if their top-1 agrees on at"
                + " least --min-agreement of them.")
    Path verify;

    @Option(
        names = "--labels",
        paramLabel = "Y.idx1-ubyte[.gz]",
        description = "Labels for --verify (default: the matching test-labels file, if any).")
    Path labels;

    @Option(
        names = "--min-agreement",
        defaultValue = "0.995",
        paramLabel = "A",
        description = "Smallest top-1 agreement --verify accepts (default ${DEFAULT-VALUE}).")
    double minAgreement;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      PackFormat f = parseFormat(format);
      OnnxModel in = OnnxModel.load(input);
      OfqPacker.Options options =
          new OfqPacker.Options(
              f,
              blockSize,
              accuracyLevel,
              allowRequantize,
              compact,
              OfqPacker.EXACT_SESSION_CONFIG);
      OfqPacker.Result r = OfqPacker.pack(in, options);
      PrintWriter out = spec.commandLine().getOut();
      report(out, in, r);
      if (verify != null) {
        Comparison c = compare(in, r.model(), verify, labelsFor(verify, labels), 200);
        printComparison(out, input.getFileName().toString(), output.getFileName().toString(), c);
        if (c.agreement() < minAgreement) {
          throw GraftException.precondition(
              "%s: packed model agrees with %s on %.4f of %s, below --min-agreement %.4f;"
                  + " nothing written",
              output, input, c.agreement(), verify.getFileName(), minAgreement);
        }
      }
      r.model().save(output);
      out.printf("wrote %s%n", output);
    }

    private void report(PrintWriter out, OnnxModel in, OfqPacker.Result r) {
      PackedModel packed = PackedModel.of(r.model()).orElseThrow();
      long before = in.proto().getSerializedSize();
      long after = r.bytes();
      long weights = r.scan().weights().stream().mapToLong(w -> w.weightCount()).sum();
      out.printf(
          "%s: packed %d weights (%,d values) as %s: %,d -> %,d bytes (1/%.2f of %s)%n",
          output,
          r.scan().weights().size(),
          weights,
          r.format().id(),
          before,
          after,
          (double) before / after,
          input.getFileName());
      out.printf(
          "  2-bit tensors %,d bytes for %,d bytes of float32 weights%n",
          packed.packedBytes(), packed.floatBytes());
      out.printf("  %-24s %-12s %-7s %s%n", "layer", "shape", "action", "note");
      for (LayerVerdict v : r.scan().verdicts()) {
        out.printf(
            "  %-24s %-12s %-7s %s%n",
            v.layer(),
            v.shape().replace(" ", ""),
            v.action().name().toLowerCase(java.util.Locale.ROOT),
            v.reason());
      }
      for (String note : r.notes()) {
        out.println("  auto: " + note);
      }
      int requantized = r.scan().verdicts().stream().mapToInt(LayerVerdict::requantizedRows).sum();
      if (requantized > 0) {
        out.printf(
            "  note: %,d rows were re-quantised post-training: this model's outputs differ from"
                + " %s%n",
            requantized, input.getFileName());
      }
    }
  }

  @Command(
      name = "verify",
      description =
          "Run two classifiers on the same images: top-1 agreement, logit differences, accuracy.")
  static final class Verify implements Runnable {
    @Parameters(index = "0", paramLabel = "A.onnx")
    Path a;

    @Parameters(index = "1", paramLabel = "B.onnx")
    Path b;

    @Option(names = "--images", required = true, paramLabel = "X.idx3-ubyte[.gz]")
    Path images;

    @Option(names = "--labels", paramLabel = "Y.idx1-ubyte[.gz]")
    Path labels;

    @Option(names = "--batch", defaultValue = "200")
    int batch;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      Comparison c = compare(OnnxModel.load(a), OnnxModel.load(b), images, labels, batch);
      printComparison(
          spec.commandLine().getOut(), a.getFileName().toString(), b.getFileName().toString(), c);
    }
  }

  static PackFormat parseFormat(String format) {
    return switch (format) {
      case "auto" -> null;
      case "nbits", "dq" -> PackFormat.of(format);
      default -> throw GraftException.invalid("--format %s: expected nbits, dq or auto", format);
    };
  }

  /** The labels file next to an images file ({@code test-images…} → {@code test-labels…}). */
  static Path labelsFor(Path images, Path given) {
    if (given != null) {
      return given;
    }
    String name = images.getFileName().toString();
    if (!name.contains("images") || !name.contains("idx3")) {
      return null;
    }
    String guess = name.replaceFirst("images(-[^.]*)?", "labels").replace("idx3", "idx1");
    Path p = images.resolveSibling(guess);
    return Files.isRegularFile(p) ? p : null;
  }

  static Comparison compare(OnnxModel a, OnnxModel b, Path images, Path labels, int batch) {
    Idx.Images x = Idx.readImages(images);
    int[] y = labels == null ? null : Idx.readLabels(labels);
    if (y != null && y.length != x.count()) {
      throw GraftException.invalid(
          "%s has %d labels for %d images in %s", labels, y.length, x.count(), images);
    }
    Map<String, String> config = OfqPacker.EXACT_SESSION_CONFIG;
    float[][] la;
    float[][] lb;
    try (OrtClassifier ca = new OrtClassifier(a, config)) {
      la = ca.logits(x, batch);
    }
    try (OrtClassifier cb = new OrtClassifier(b, config)) {
      lb = cb.logits(x, batch);
    }
    if (la.length > 0 && la[0].length != lb[0].length) {
      throw GraftException.precondition(
          "%s gives %d logits per image, %s gives %d",
          a.source(), la[0].length, b.source(), lb[0].length);
    }
    return Comparison.of(la, lb, y);
  }

  static void printComparison(PrintWriter out, String a, String b, Comparison c) {
    if (!Double.isNaN(c.accuracyA())) {
      out.printf("  accuracy   %-28s %.4f%n", a, c.accuracyA());
      out.printf("  accuracy   %-28s %.4f%n", b, c.accuracyB());
    }
    out.printf(
        "  top-1 agreement %.4f (%d of %d images differ), logit difference max %.4g, mean %.4g%n",
        c.agreement(), c.disagreements(), c.images(), c.maxDiff(), c.meanDiff());
  }
}
