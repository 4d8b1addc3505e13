package dev.graft.onnx;

import com.google.protobuf.ByteString;
import dev.graft.onnx.internal.Digests;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.onnx.rws.proto.LayerDelta;
import dev.graft.onnx.rws.proto.Quantization;
import dev.graft.onnx.rws.proto.RwsFile;
import dev.graft.onnx.safetensors.SafeTensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes the seed inputs of the onnx-tools fuzz tests (the checked-in regression corpus): a valid
 * file of each format plus hand-made hostile ones (shapes claiming 2^40 or 2^30 elements over a few
 * bytes of data, negative and out-of-range axes, mistyped JSON). Run from the repository root:
 * {@code mvn -pl onnx-tools test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=dev.graft.onnx.FuzzSeeds}. Inputs Jazzer finds are added beside them.
 */
public final class FuzzSeeds {
  private FuzzSeeds() {}

  public static void main(String[] args) throws IOException {
    Path resources = Fixtures.root().resolveSibling("onnx-tools/src/test/resources/dev/graft/onnx");
    rws(resources.resolve("rws/RwsSignatureFuzzTestInputs"));
    safetensors(resources.resolve("safetensors/SafeTensorsFuzzTestInputs/parseAndDecode"));
    onnx(resources.resolve("OnnxModelFuzzTestInputs/parseAndRead"));
  }

  private static void rws(Path dir) throws IOException {
    RwsSignature real =
        RwsExtractor.extract(
                OnnxModel.load(Fixtures.root().resolve("rws/mnist-vgg-clean.onnx")),
                OnnxModel.load(Fixtures.root().resolve("rws/mnist-vgg-robust-gaussian_noise.onnx")),
                OnnxModel.load(Fixtures.root().resolve("rws/mnist-vgg-pretrained.onnx")),
                new RwsExtractor.Options("n", "gaussian_noise", 1, List.of(), 16, false, 0.30))
            .signature();
    byte[] valid = real.toByteArray();
    for (String method : List.of("parse", "decodeSealed")) {
      Path d = dir.resolve(method);
      write(d.resolve("valid-keep1-16-levels.rws"), valid);
      write(d.resolve("truncated.rws"), Arrays.copyOf(valid, valid.length / 2));
      write(
          d.resolve("huge-shape-2pow40.rws"),
          sealed(delta(new long[] {1L << 20, 1L << 20}, 256, 8, 0, 1)));
      write(
          d.resolve("huge-shape-2pow31-1bit.rws"),
          sealed(delta(new long[] {1L << 31}, 2, 1, 0, 1)));
      write(d.resolve("negative-dim.rws"), sealed(delta(new long[] {-4, -2}, 256, 8, 8, 1)));
      write(d.resolve("per-channel-axis-2pow31.rws"), sealed(perChannel(Integer.MIN_VALUE)));
      write(d.resolve("per-channel-axis-9.rws"), sealed(perChannel(9)));
      write(d.resolve("levels-2pow32-minus-1.rws"), sealed(delta(new long[] {2}, -1, 8, 2, 1)));
    }
  }

  private static RwsFile delta(long[] dims, int levels, int bits, int codeBytes, int ranges) {
    Quantization.Builder q = Quantization.newBuilder().setLevels(levels).setBits(bits);
    for (int i = 0; i < ranges; i++) {
      q.addMin(-1f).addMax(1f);
    }
    LayerDelta.Builder d =
        LayerDelta.newBuilder()
            .setTensor("w")
            .setLayer("l")
            .setQuantization(q)
            .setCodes(ByteString.copyFrom(new byte[codeBytes]));
    for (long x : dims) {
      d.addDims(x);
    }
    return RwsFile.newBuilder().setName("seed").addLayers(d).build();
  }

  private static RwsFile perChannel(int axis) {
    RwsFile f = delta(new long[] {2, 2}, 256, 8, 4, 2);
    LayerDelta d = f.getLayers(0);
    Quantization q =
        d.getQuantization().toBuilder()
            .setGranularity(Quantization.Granularity.PER_CHANNEL)
            .setAxis(axis)
            .build();
    return f.toBuilder().setLayers(0, d.toBuilder().setQuantization(q)).build();
  }

  /** Marker, version and a correct content hash, as a real writer would add them. */
  private static byte[] sealed(RwsFile f) {
    RwsFile unsealed =
        f.toBuilder()
            .setMagic(RwsSignature.MAGIC)
            .setFormatVersion(RwsSignature.FORMAT_VERSION)
            .clearContentSha256()
            .build();
    return unsealed.toBuilder()
        .setContentSha256(ByteString.copyFrom(Digests.sha256Bytes(unsealed.toByteArray())))
        .build()
        .toByteArray();
  }

  private static void safetensors(Path dir) throws IOException {
    write(
        dir.resolve("valid.safetensors"),
        SafeTensors.write(
            List.of(new FloatTensor("w", new long[] {2, 2}, new float[] {1, 2, 3, 4})),
            Map.of("classes", "a,b")));
    write(
        dir.resolve("claims-2pow40-elements.safetensors"),
        header(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,4398046511104]}}",
            4));
    write(dir.resolve("metadata-object.safetensors"), header("{\"__metadata__\":{\"a\":{}}}", 0));
    write(
        dir.resolve("dtype-object.safetensors"),
        header("{\"w\":{\"dtype\":{},\"shape\":[1],\"data_offsets\":[0,4]}}", 4));
    write(
        dir.resolve("shape-null.safetensors"),
        header("{\"w\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,4]}}", 4));
    write(dir.resolve("deep-nesting.safetensors"), header("[".repeat(5000), 0));
    ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    huge.putLong(Long.MAX_VALUE).putLong(0);
    write(dir.resolve("header-length-max.safetensors"), huge.array());
  }

  private static byte[] header(String json, int dataBytes) {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    return b.array();
  }

  private static void onnx(Path dir) throws IOException {
    write(dir.resolve("gemm-valid.onnx"), gemm(new long[] {2, 3}, floats(6)).toByteArray());
    write(
        dir.resolve("raw-claims-2pow30.onnx"),
        gemm(new long[] {1L << 30}, floats(1)).toByteArray());
    write(
        dir.resolve("raw-claims-2pow40.onnx"),
        gemm(new long[] {1L << 20, 1L << 20}, floats(1)).toByteArray());
    TensorProto typed =
        TensorProto.newBuilder()
            .setName("W")
            .addDims(1L << 30)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .addFloatData(1f)
            .build();
    write(dir.resolve("typed-claims-2pow30.onnx"), withWeight(typed).toByteArray());
    TensorProto external =
        TensorProto.newBuilder()
            .setName("W")
            .addDims(2)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(
                dev.graft.onnx.proto.StringStringEntryProto.newBuilder()
                    .setKey("location")
                    .setValue("../../../etc/passwd"))
            .build();
    write(dir.resolve("external-escape.onnx"), withWeight(external).toByteArray());
  }

  private static byte[] floats(int n) {
    return new byte[4 * n];
  }

  private static ModelProto gemm(long[] dims, byte[] raw) {
    TensorProto.Builder w =
        TensorProto.newBuilder()
            .setName("W")
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .setRawData(ByteString.copyFrom(raw));
    for (long d : dims) {
      w.addDims(d);
    }
    return withWeight(w.build());
  }

  private static ModelProto withWeight(TensorProto w) {
    GraphProto graph =
        GraphProto.newBuilder()
            .setName("seed")
            .addInitializer(w)
            .addNode(
                NodeProto.newBuilder().setOpType("Gemm").addInput("x").addInput("W").addOutput("y"))
            .build();
    return ModelProto.newBuilder().setIrVersion(8).setGraph(graph).build();
  }

  private static void write(Path file, byte[] bytes) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, bytes);
  }
}
