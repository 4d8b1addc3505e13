package dev.graft.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.grpc.proto.GRPCInferenceServiceGrpc;
import dev.graft.plugin.grpc.proto.ModelInferRequest;
import dev.graft.plugin.grpc.proto.ServerLiveRequest;
import dev.graft.plugin.internal.WorkerPool;
import dev.graft.plugin.testing.FullQueue;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gRPC inference shares the bounded worker pool with REST: a full queue is UNAVAILABLE. */
class GrpcOverCapacityTest {
  @TempDir Path tmp;

  @Test
  void fullQueueAnswersUnavailableAndHealthStillAnswers() throws Exception {
    ThreadPoolExecutor workers = WorkerPool.create("grpc-capacity-test", 1, 1);
    GraftConfig config =
        GraftConfig.of(Map.of("model_store", tmp.toString(), "grpc_address", "127.0.0.1:0"), tmp);
    try (GraftRequestHandler handler =
            new GraftRequestHandler(config, workers, WorkerPool.create("grpc-control", 1, 4));
        FullQueue full = FullQueue.fill(workers)) {
      InetSocketAddress address = handler.grpcAddress().orElseThrow();
      ManagedChannel channel =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1", address.getPort(), InsecureChannelCredentials.create())
              .build();
      try {
        GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub =
            GRPCInferenceServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        ModelInferRequest request =
            ModelInferRequest.newBuilder()
                .setModelName("any")
                .addInputs(
                    ModelInferRequest.InferInputTensor.newBuilder()
                        .setName("x")
                        .setDatatype("FP32")
                        .addShape(1))
                .addRawInputContents(ByteString.copyFrom(new byte[4]))
                .build();

        StatusRuntimeException e =
            catchThrowableOfType(StatusRuntimeException.class, () -> stub.modelInfer(request));

        assertThat(e).as("a full worker queue must refuse the call").isNotNull();
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("over capacity");
        assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive())
            .as("health does not need a worker")
            .isTrue();
      } finally {
        full.close(); // before the channel waits for the call
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
