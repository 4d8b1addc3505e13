package dev.graft.plugin.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import dev.graft.plugin.grpc.proto.GRPCInferenceServiceGrpc;
import dev.graft.plugin.grpc.proto.InferParameter;
import dev.graft.plugin.grpc.proto.InferTensorContents;
import dev.graft.plugin.grpc.proto.ModelInferRequest;
import dev.graft.plugin.grpc.proto.ModelInferResponse;
import dev.graft.plugin.grpc.proto.ModelMetadataRequest;
import dev.graft.plugin.grpc.proto.ModelMetadataResponse;
import dev.graft.plugin.grpc.proto.ModelReadyRequest;
import dev.graft.plugin.grpc.proto.ServerLiveRequest;
import dev.graft.plugin.grpc.proto.ServerMetadataRequest;
import dev.graft.plugin.grpc.proto.ServerMetadataResponse;
import dev.graft.plugin.grpc.proto.ServerReadyRequest;
import dev.graft.plugin.testing.AbstractKServeTest;
import dev.graft.plugin.testing.EchoData;
import dev.graft.plugin.testing.Fixtures;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every RPC of inference.GRPCInferenceService, through a real channel to the plugin's server. */
class KServeGrpcTest extends AbstractKServeTest {
  @Test
  void healthAndServerMetadata() {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub = kserve.grpc();
    assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
    assertThat(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
    ServerMetadataResponse meta = stub.serverMetadata(ServerMetadataRequest.getDefaultInstance());
    assertThat(meta.getName()).isEqualTo("graft");
    assertThat(meta.getExtensionsList()).contains("binary_tensor_data");
  }

  @Test
  void modelReadyAndMetadataKnowVersionOneAndRefuseTheRest() {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub = kserve.grpc();
    assertThat(
            stub.modelReady(ModelReadyRequest.newBuilder().setName("mnist-vgg").build()).getReady())
        .isTrue();
    ModelMetadataResponse meta =
        stub.modelMetadata(
            ModelMetadataRequest.newBuilder().setName("mnist-vgg").setVersion("1").build());
    assertThat(meta.getPlatform()).isEqualTo("onnxruntime_onnx");
    assertThat(meta.getInputs(0).getShapeList()).containsExactly(-1L, 1L, 28L, 28L);
    assertThat(meta.getOutputs(0).getName()).isEqualTo("logits");
    assertStatus(
        () -> stub.modelReady(ModelReadyRequest.newBuilder().setName("nope").build()),
        Status.Code.NOT_FOUND,
        "nope");
    assertStatus(
        () ->
            stub.modelMetadata(
                ModelMetadataRequest.newBuilder().setName("mnist-vgg").setVersion("2").build()),
        Status.Code.NOT_FOUND,
        "no version 2");
  }

  @Test
  void rawAndTypedFp32ContentsGiveTheRuntimeLogitsExactly() {
    float[] images = Fixtures.testImages("", 3);
    float[] expected = kserve.vggLogits(images, 3);
    ModelInferResponse raw = kserve.grpc().modelInfer(rawVgg(images, 3).setId("g-1").build());
    assertThat(raw.getId()).isEqualTo("g-1");
    assertThat(raw.getParametersMap().get("graft_weights").getStringParam()).isEqualTo("base");
    assertThat(raw.getOutputs(0).getShapeList()).containsExactly(3L, 10L);
    assertThat(floats(raw.getRawOutputContents(0))).containsExactly(expected);

    InferTensorContents.Builder typed = InferTensorContents.newBuilder();
    for (float v : images) {
      typed.addFp32Contents(v);
    }
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setModelName("mnist-vgg")
            .addInputs(vggInput(3).setContents(typed))
            .build();
    assertThat(floats(kserve.grpc().modelInfer(request).getRawOutputContents(0)))
        .as("typed contents compute what raw contents compute")
        .containsExactly(expected);
  }

  @Test
  void everyDatatypeRoundTripsThroughRawContents() {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("echo");
    for (String type : EchoData.JSON.keySet()) {
      request.addInputs(
          ModelInferRequest.InferInputTensor.newBuilder()
              .setName("in_" + type)
              .setDatatype(type)
              .addShape(3));
      request.addRawInputContents(ByteString.copyFrom(EchoData.raw(type)));
    }
    ModelInferResponse response = kserve.grpc().modelInfer(request.build());
    assertThat(response.getOutputsCount()).isEqualTo(response.getRawOutputContentsCount());
    assertEveryOutputEchoesItsType(response, "raw");
  }

  @Test
  void everyTypedContentsFieldIsReadForItsDatatypes() {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("echo_typed");
    Map<String, InferTensorContents> contents =
        Map.ofEntries(
            Map.entry(
                "BOOL",
                InferTensorContents.newBuilder()
                    .addAllBoolContents(List.of(true, false, true))
                    .build()),
            Map.entry(
                "UINT8",
                InferTensorContents.newBuilder().addAllUintContents(List.of(0, 7, 255)).build()),
            Map.entry(
                "INT8",
                InferTensorContents.newBuilder().addAllIntContents(List.of(-128, 0, 127)).build()),
            Map.entry(
                "INT16",
                InferTensorContents.newBuilder()
                    .addAllIntContents(List.of(-32768, 1, 32767))
                    .build()),
            Map.entry(
                "INT32",
                InferTensorContents.newBuilder()
                    .addAllIntContents(List.of(Integer.MIN_VALUE, 0, Integer.MAX_VALUE))
                    .build()),
            Map.entry(
                "INT64",
                InferTensorContents.newBuilder()
                    .addAllInt64Contents(List.of(0L, 70000L, 9007199254740993L))
                    .build()),
            Map.entry(
                "FP32",
                InferTensorContents.newBuilder()
                    .addAllFp32Contents(List.of(0.1f, -1.5f, Float.MAX_VALUE))
                    .build()),
            Map.entry(
                "FP64",
                InferTensorContents.newBuilder()
                    .addAllFp64Contents(List.of(0.1, -1.5, 1.0e300))
                    .build()),
            Map.entry(
                "BYTES",
                InferTensorContents.newBuilder()
                    .addBytesContents(ByteString.copyFromUtf8("a"))
                    .addBytesContents(ByteString.copyFromUtf8("\u00fc"))
                    .addBytesContents(ByteString.EMPTY)
                    .build()));
    contents.forEach(
        (type, values) ->
            request.addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("in_" + type)
                    .setDatatype(type)
                    .addShape(3)
                    .setContents(values)));
    ModelInferResponse response = kserve.grpc().modelInfer(request.build());
    assertThat(response.getOutputsCount()).isEqualTo(contents.size() + 3);
    assertEveryOutputEchoesItsType(response, "from typed contents");
  }

  @Test
  void halfPrecisionHasNoTypedContents() {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("echo");
    for (String type : EchoData.JSON.keySet()) {
      request.addInputs(
          ModelInferRequest.InferInputTensor.newBuilder()
              .setName("in_" + type)
              .setDatatype(type)
              .addShape(0)
              .setContents(InferTensorContents.getDefaultInstance()));
    }
    assertStatus(
        () -> kserve.grpc().modelInfer(request.build()),
        Status.Code.INVALID_ARGUMENT,
        "FP16, which has no typed contents: send raw_input_contents");
  }

  @Test
  void rawAndTypedContentsMixedAreInvalid() {
    float[] images = Fixtures.testImages("", 1);
    ModelInferRequest mixed =
        rawVgg(images, 1)
            .setInputs(
                0, vggInput(1).setContents(InferTensorContents.newBuilder().addFp32Contents(1)))
            .build();
    assertStatus(
        () -> kserve.grpc().modelInfer(mixed), Status.Code.INVALID_ARGUMENT, "use one form");
    ModelInferRequest extraRaw = rawVgg(images, 1).addRawInputContents(ByteString.EMPTY).build();
    assertStatus(
        () -> kserve.grpc().modelInfer(extraRaw),
        Status.Code.INVALID_ARGUMENT,
        "2 raw_input_contents for 1 inputs");
  }

  @Test
  void requestsThatDoNotFitTheModelAreRefusedWithTheirStatus() {
    float[] images = Fixtures.testImages("", 2);
    assertStatus(
        () -> kserve.grpc().modelInfer(rawVgg(images, 2).setModelName("nope").build()),
        Status.Code.NOT_FOUND,
        "nope");
    ModelInferRequest wrongShape =
        rawVgg(images, 2)
            .setInputs(0, vggInput(2).clearShape().addAllShape(List.of(2L, 28L, 28L, 1L)))
            .build();
    assertStatus(() -> kserve.grpc().modelInfer(wrongShape), Status.Code.INVALID_ARGUMENT, "shape");
    ModelInferRequest wrongCount = rawVgg(images, 2).setInputs(0, vggInput(3)).build();
    assertStatus(() -> kserve.grpc().modelInfer(wrongCount), Status.Code.INVALID_ARGUMENT, "needs");
    ModelInferRequest wrongType =
        rawVgg(images, 2).setInputs(0, vggInput(2).setDatatype("INT32")).build();
    assertStatus(
        () -> kserve.grpc().modelInfer(wrongType), Status.Code.INVALID_ARGUMENT, "datatype INT32");
    ModelInferRequest wrongField =
        ModelInferRequest.newBuilder()
            .setModelName("mnist-vgg")
            .addInputs(
                vggInput(1)
                    .setContents(InferTensorContents.newBuilder().addAllIntContents(List.of(1, 2))))
            .build();
    assertStatus(
        () -> kserve.grpc().modelInfer(wrongField), Status.Code.INVALID_ARGUMENT, "fp32_contents");
    ModelInferRequest unknownOutput =
        rawVgg(images, 2)
            .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("x"))
            .build();
    assertStatus(
        () -> kserve.grpc().modelInfer(unknownOutput),
        Status.Code.INVALID_ARGUMENT,
        "no output named");
  }

  @Test
  void unsignedInputsAreAFailedPrecondition() {
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setModelName("unsigned")
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName("in")
                    .setDatatype("UINT16")
                    .addShape(2)
                    .setContents(
                        InferTensorContents.newBuilder().addAllUintContents(List.of(1, 2))))
            .build();
    assertStatus(
        () -> kserve.grpc().modelInfer(request), Status.Code.FAILED_PRECONDITION, "UINT16");
  }

  @Test
  void messagesOverMaxRequestSizeAreResourceExhausted() {
    float[] images = Fixtures.testImages("", 100);
    assertStatus(
        () -> kserve.grpc().modelInfer(rawVgg(images, 100).build()),
        Status.Code.RESOURCE_EXHAUSTED,
        "");
    assertThat(kserve.grpc().serverLive(ServerLiveRequest.getDefaultInstance()).getLive())
        .as("the server keeps serving")
        .isTrue();
  }

  @Test
  void requestsAreCountedInTheMetrics() {
    float[] images = Fixtures.testImages("", 1);
    kserve.grpc().modelInfer(rawVgg(images, 1).build());
    String text = new String(kserve.handler().metrics().scrape(), StandardCharsets.UTF_8);
    assertThat(text)
        .contains("graft_requests_total{model=\"mnist-vgg\",protocol=\"grpc\",status=\"OK\"}");
  }

  @Test
  void anAdaptersParameterChoosesTheWeights() {
    float[] images = Fixtures.testImages("", 1);
    ModelInferRequest request =
        rawVgg(images, 1)
            .putParameters("adapters", InferParameter.newBuilder().setStringParam("nope").build())
            .build();
    assertStatus(
        () -> kserve.grpc().modelInfer(request),
        Status.Code.INVALID_ARGUMENT,
        "no adapter named nope");
  }

  // ---- helpers

  static ModelInferRequest.InferInputTensor.Builder vggInput(int n) {
    return ModelInferRequest.InferInputTensor.newBuilder()
        .setName("input")
        .setDatatype("FP32")
        .addAllShape(List.of((long) n, 1L, 28L, 28L));
  }

  static ModelInferRequest.Builder rawVgg(float[] images, int n) {
    ByteBuffer raw = ByteBuffer.allocate(n * 784 * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(images, 0, n * 784);
    return ModelInferRequest.newBuilder()
        .setModelName("mnist-vgg")
        .addInputs(vggInput(n))
        .addRawInputContents(ByteString.copyFrom(raw));
  }

  static float[] floats(ByteString raw) {
    float[] out = new float[raw.size() / 4];
    raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  /** Each raw output holds {@link EchoData#raw} of its data type: what the echo model was fed. */
  private static void assertEveryOutputEchoesItsType(ModelInferResponse response, String how) {
    for (int i = 0; i < response.getOutputsCount(); i++) {
      String type = response.getOutputs(i).getDatatype();
      assertThat(response.getRawOutputContents(i).toByteArray())
          .as("%s %s", response.getOutputs(i).getName(), how)
          .isEqualTo(EchoData.raw(type));
    }
  }

  private static void assertStatus(Runnable call, Status.Code code, String mentions) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("the call must fail with %s", code).isNotNull();
    assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
    assertThat(String.valueOf(e.getStatus().getDescription())).contains(mentions);
  }
}
