package dev.graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.OperatorSetIdProto;
import dev.graft.onnx.proto.TensorProto;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading a 90 MB model and decoding every weight must fit in about twice the model's size of heap:
 * the file is parsed with aliasing, so the model costs one copy of the file and the decoded floats
 * a second. Checked in a child JVM whose heap is capped at 2.25x the file size; a plain parse (file
 * bytes + parsed copies + floats) needs 3x and fails there.
 */
class LargeModelHeapTest {
  private static final int ROWS = 2048;
  private static final int COLS = 2200;
  private static final int LAYERS = 5;

  @TempDir Path tmp;

  @Test
  void ninetyMegabyteModelIsReadWithinTwiceItsSizeOfHeap() throws Exception {
    Path model = tmp.resolve("big.onnx");
    writeChain(model);
    long size = Files.size(model);
    assertThat(size).as("model size").isBetween(85L << 20, 95L << 20);
    long heapMb = 9 * size / 4 / (1 << 20);

    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heapMb + "m",
                "-cp",
                System.getProperty("java.class.path"),
                HeapProbe.class.getName(),
                model.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("probe finished").isTrue();

    assertThat(p.exitValue()).as("probe with -Xmx%dm: %s", heapMb, output).isZero();
    assertThat(output).contains("decoded " + (long) LAYERS * ROWS * COLS + " floats");
  }

  /** Child process: loads the model and keeps every decoded weight alive at once. */
  public static final class HeapProbe {
    public static void main(String[] args) {
      OnnxModel m = OnnxModel.load(Path.of(args[0]));
      List<float[]> all = new ArrayList<>();
      long n = 0;
      for (String name : m.initializerNames()) {
        float[] v = m.floatTensor(name).data();
        all.add(v);
        n += v.length;
      }
      System.out.println("decoded " + n + " floats in " + all.size() + " tensors");
    }
  }

  private static void writeChain(Path file) throws IOException {
    GraphProto.Builder g = GraphProto.newBuilder().setName("chain");
    byte[] block = new byte[ROWS * COLS * 4];
    for (int i = 0; i < block.length; i += 4) {
      block[i + 2] = (byte) (i >>> 4);
      block[i + 3] = 0x3c;
    }
    String prev = "input";
    for (int l = 0; l < LAYERS; l++) {
      String w = "layer" + l + ".weight";
      g.addInitializer(
          TensorProto.newBuilder()
              .setName(w)
              .addDims(ROWS)
              .addDims(COLS)
              .setDataType(TensorProto.DataType.FLOAT_VALUE)
              .setRawData(ByteString.copyFrom(block)));
      String out = l == LAYERS - 1 ? "output" : "h" + l;
      g.addNode(
          NodeProto.newBuilder()
              .setOpType("MatMul")
              .addInput(prev)
              .addInput(w)
              .addOutput(out)
              .setName("mm" + l));
      prev = out;
    }
    ModelProto m =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
            .setGraph(g)
            .build();
    try (OutputStream os = Files.newOutputStream(file)) {
      m.writeTo(os);
    }
  }
}
