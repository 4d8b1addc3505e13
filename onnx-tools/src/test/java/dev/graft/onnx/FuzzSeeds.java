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
      write(
          d.resolve("dims-overflow-long.rws"),
          sealed(delta(new long[] {1L << 32, 1L << 32, 2}, 256, 8, 0, 1)));
      RwsFile wide = perChannel(1);
      write(
          d.resolve("per-channel-2pow32-channels.rws"),
          sealed(
              wide.toBuilder()
                  .setLayers(
                      0,
                      wide.getLayers(0).toBuilder()
                          .clearDims()
                          .addDims(0)
                          .addDims((1L << 32) + 2)
                          .clearCodes())
                  .build()));
    }
  }

  /**
   * An unsealed signature with one delta of this shape: {@code levels} and {@code bits} as given,
   * {@code codeBytes} zero bytes of codes and {@code ranges} [-1, 1] quantisation ranges.
   */
  public static RwsFile delta(long[] dims, int levels, int bits, int codeBytes, int ranges) {
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

  /** A 2x2 delta quantised per channel along {@code axis}, with two ranges. */
  public static RwsFile perChannel(int axis) {
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
  public static byte[] sealed(RwsFile f) {
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

  /** A safetensors file: this header JSON, then {@code dataBytes} zero bytes of data. */
  public static byte[] header(String json, int dataBytes) {
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
    write(
        dir.resolve("external-valid.onnx"),
        withWeight(externalFloats(OnnxModelFuzzTest.DATA_FILE, "0", "64", 16)).toByteArray());
    write(
        dir.resolve("external-offset-overflow.onnx"),
        withWeight(externalFloats(OnnxModelFuzzTest.DATA_FILE, "9223372036854775800", "16", 4))
            .toByteArray());
    write(
        dir.resolve("external-nul-in-path.onnx"),
        withWeight(externalFloats("w\u0000.data", "0", "16", 4)).toByteArray());
    write(
        dir.resolve("dims-overflow-long.onnx"),
        gemm(new long[] {1L << 32, 1L << 32, 2}, floats(1)).toByteArray());
    write(dir.resolve("matmul-add.onnx"), matMulAdd(true).toByteArray());
    write(dir.resolve("matmul-no-output.onnx"), matMulAdd(false).toByteArray());
    write(dir.resolve("conv-half-types.onnx"), convHalfTypes().toByteArray());
    write(dir.resolve("nested-subgraphs-150.onnx"), nestedSubgraphs(150).toByteArray());
  }

  /** A FLOAT tensor {@code W} of {@code elements} values stored as external data. */
  public static TensorProto externalFloats(
      String location, String offset, String length, long elements) {
    return TensorProto.newBuilder()
        .setName("W")
        .addDims(elements)
        .setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(entry("location", location))
        .addExternalData(entry("offset", offset))
        .addExternalData(entry("length", length))
        .build();
  }

  private static dev.graft.onnx.proto.StringStringEntryProto entry(String key, String value) {
    return dev.graft.onnx.proto.StringStringEntryProto.newBuilder()
        .setKey(key)
        .setValue(value)
        .build();
  }

  /**
   * MatMul then Add of a constant (PyTorch's Linear); without outputs when {@code outputs} is
   * false.
   */
  public static ModelProto matMulAdd(boolean outputs) {
    TensorProto w =
        TensorProto.newBuilder()
            .setName("fc.weight")
            .addDims(2)
            .addDims(2)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .setRawData(ByteString.copyFrom(floats(4)))
            .build();
    TensorProto b =
        TensorProto.newBuilder()
            .setName("fc.bias")
            .addDims(2)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .addFloatData(1f)
            .addFloatData(2f)
            .build();
    NodeProto.Builder matMul =
        NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("fc.weight");
    if (outputs) {
      matMul.addOutput("h");
    }
    GraphProto graph =
        GraphProto.newBuilder()
            .setName("seed")
            .addInitializer(w)
            .addInitializer(b)
            .addNode(matMul)
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Add")
                    .addInput("h")
                    .addInput("fc.bias")
                    .addOutput("y"))
            .build();
    return ModelProto.newBuilder().setIrVersion(8).setGraph(graph).build();
  }

  /** A Conv with FLOAT16 raw weights, a BFLOAT16 typed bias and a DOUBLE Constant node. */
  private static ModelProto convHalfTypes() {
    TensorProto w =
        TensorProto.newBuilder()
            .setName("conv.weight")
            .addDims(1)
            .addDims(1)
            .addDims(1)
            .addDims(2)
            .setDataType(TensorProto.DataType.FLOAT16_VALUE)
            .setRawData(ByteString.copyFrom(new byte[] {0x00, 0x3c, 0x00, (byte) 0xbc}))
            .build();
    TensorProto b =
        TensorProto.newBuilder()
            .setName("conv.bias")
            .addDims(1)
            .setDataType(TensorProto.DataType.BFLOAT16_VALUE)
            .addInt32Data(0x3f80)
            .build();
    TensorProto scale =
        TensorProto.newBuilder()
            .setDataType(TensorProto.DataType.DOUBLE_VALUE)
            .addDims(1)
            .setRawData(ByteString.copyFrom(new byte[8]))
            .build();
    GraphProto graph =
        GraphProto.newBuilder()
            .setName("seed")
            .addInitializer(w)
            .addInitializer(b)
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Constant")
                    .addOutput("scale")
                    .addAttribute(
                        dev.graft.onnx.proto.AttributeProto.newBuilder()
                            .setName("value")
                            .setType(dev.graft.onnx.proto.AttributeProto.AttributeType.TENSOR)
                            .setT(scale)))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Conv")
                    .addInput("x")
                    .addInput("conv.weight")
                    .addInput("conv.bias")
                    .addOutput("c"))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Mul")
                    .addInput("c")
                    .addInput("scale")
                    .addOutput("y"))
            .build();
    return ModelProto.newBuilder().setIrVersion(8).setGraph(graph).build();
  }

  /** {@code depth} If nodes, each holding the next graph as its branch: deep protobuf nesting. */
  public static ModelProto nestedSubgraphs(int depth) {
    GraphProto graph =
        GraphProto.newBuilder()
            .addNode(NodeProto.newBuilder().setOpType("Identity").addInput("x").addOutput("y"))
            .build();
    for (int i = 0; i < depth; i++) {
      graph =
          GraphProto.newBuilder()
              .addNode(
                  NodeProto.newBuilder()
                      .setOpType("If")
                      .addInput("c")
                      .addOutput("y")
                      .addAttribute(
                          dev.graft.onnx.proto.AttributeProto.newBuilder()
                              .setName("then_branch")
                              .setType(dev.graft.onnx.proto.AttributeProto.AttributeType.GRAPH)
                              .setG(graph)))
              .build();
    }
    return ModelProto.newBuilder().setIrVersion(8).setGraph(graph).build();
  }

  private static byte[] floats(int n) {
    return new byte[4 * n];
  }

  /** A Gemm whose weight {@code W} has these dims and {@code raw} as FLOAT raw_data. */
  public static ModelProto gemm(long[] dims, byte[] raw) {
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

  /** A one-node model (Gemm of x and {@code w}) with {@code w} as its only initializer. */
  public static ModelProto withWeight(TensorProto w) {
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
