package dev.graft.plugin.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.GraftRequestHandler;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.grpc.proto.GRPCInferenceServiceGrpc;
import dev.graft.plugin.grpc.proto.ServerLiveRequest;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gRPC server lives exactly as long as the plugin. */
class GrpcLifecycleTest {
  @TempDir Path tmp;

  @Test
  void startsWithThePluginAndFreesItsPortOnClose() throws Exception {
    GraftRequestHandler handler = handler("127.0.0.1:0");
    InetSocketAddress address;
    try {
      address = handler.grpcAddress().orElseThrow();
      assertThat(address.getPort()).as("the bound port, not 0").isPositive();
      ManagedChannel channel =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1", address.getPort(), InsecureChannelCredentials.create())
              .build();
      try {
        assertThat(
                GRPCInferenceServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .serverLive(ServerLiveRequest.getDefaultInstance())
                    .getLive())
            .isTrue();
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    } finally {
      handler.close();
    }
    try (ServerSocket again = new ServerSocket()) {
      again.bind(new InetSocketAddress("127.0.0.1", address.getPort()));
      assertThat(again.isBound()).as("close() released port %d", address.getPort()).isTrue();
    }
  }

  @Test
  void aPortInUseFailsThePluginLikeDjlServingExpects() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(() -> handler("127.0.0.1:" + taken.getLocalPort()))
          .isInstanceOf(GraftException.class)
          .hasMessageContaining("cannot serve gRPC")
          .satisfies(
              e ->
                  assertThat(((GraftException) e).code())
                      .isEqualTo(GraftException.Code.UNAVAILABLE));
    }
  }

  @Test
  void aMalformedAddressIsAConfigurationError() {
    assertThatThrownBy(() -> handler("localhost"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("host:port");
  }

  @Test
  void noAddressMeansNoGrpc() {
    GraftRequestHandler handler =
        new GraftRequestHandler(GraftConfig.of(Map.of("model_store", tmp.toString()), tmp));
    try {
      assertThat(handler.grpcAddress()).isEmpty();
    } finally {
      handler.close();
    }
  }

  private GraftRequestHandler handler(String grpc) {
    return new GraftRequestHandler(
        GraftConfig.of(Map.of("model_store", tmp.toString(), "grpc_address", grpc), tmp));
  }
}
