package dev.graft.plugin.testing;

import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.GraftRequestHandler;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.grpc.proto.GRPCInferenceServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Graft handler serving the fixture VGG ({@code mnist-vgg}), the typed echo model ({@code echo};
 * {@code echo_typed} without FP16 and BF16) and the unsigned-input model ({@code unsigned}) over
 * REST (a real Netty server, {@link TestServer}) and gRPC (the plugin's own server on an ephemeral
 * port), with clients for both. The store also holds {@code noise.rws} and {@code blur.rws},
 * signatures for the VGG.
 */
public final class KServeFixture implements AutoCloseable {
  /** The {@code max_request_size} of the fixture: 100 VGG images (313,600 bytes) exceed it. */
  public static final int MAX_REQUEST = 256 * 1024;

  private final GraftRequestHandler handler;
  private final TestServer server;
  private final ManagedChannel channel;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private KServeFixture(GraftRequestHandler handler, TestServer server, ManagedChannel channel) {
    this.handler = handler;
    this.server = server;
    this.channel = channel;
  }

  /** Starts everything in {@code tmp}; {@code extra} config entries override the defaults. */
  public static KServeFixture start(Path tmp, Map<String, String> extra) throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    Fixtures.copyExampleModel(store);
    Files.write(store.resolve("echo.onnx"), EchoModel.echo());
    Set<String> typed = new java.util.LinkedHashSet<>(EchoModel.FEEDABLE.keySet());
    typed.removeAll(Set.of("FP16", "BF16")); // these have no typed gRPC contents
    Files.write(store.resolve("echo_typed.onnx"), EchoModel.echo(typed));
    Files.write(store.resolve("unsigned.onnx"), EchoModel.unsigned());
    Files.write(store.resolve("noise.rws"), Fixtures.signature("gaussian_noise").toByteArray());
    Files.write(store.resolve("blur.rws"), Fixtures.signature("gaussian_blur").toByteArray());
    Map<String, String> config = new HashMap<>();
    config.put("model_store", store.toString());
    config.put("load_models", "mnist-vgg,echo.onnx,echo_typed.onnx,unsigned.onnx");
    config.put("max_request_size", Integer.toString(MAX_REQUEST));
    config.put("graft.executor.threads", "2");
    config.put("grpc_address", "127.0.0.1:0");
    config.putAll(extra);
    GraftRequestHandler handler = new GraftRequestHandler(GraftConfig.of(config, tmp));
    TestServer server;
    try {
      server = new TestServer(handler, 64 * 1024 * 1024);
    } catch (InterruptedException | RuntimeException e) {
      handler.close();
      throw e;
    }
    InetSocketAddress grpc = handler.grpcAddress().orElseThrow();
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                grpc.getHostString(), grpc.getPort(), InsecureChannelCredentials.create())
            .maxInboundMessageSize(64 * 1024 * 1024)
            .build();
    return new KServeFixture(handler, server, channel);
  }

  public GraftRequestHandler handler() {
    return handler;
  }

  public URI uri(String pathAndQuery) {
    return server.uri(pathAndQuery);
  }

  /**
   * The logits of {@code mnist-vgg} for the first {@code n} 28x28 images, from its runtime directly
   * (no protocol in between): what every front end must answer.
   */
  public float[] vggLogits(float[] images, int n) {
    float[] x = Arrays.copyOf(images, n * 784);
    FloatTensor input = new FloatTensor("input", new long[] {n, 1, 28, 28}, x);
    return handler
        .registry()
        .get("mnist-vgg")
        .runtime()
        .infer(Map.of("input", input), Set.of())
        .outputs()
        .get(0)
        .data();
  }

  /** A blocking gRPC stub, built from the same proto as the server. */
  public GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc() {
    return GRPCInferenceServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  public HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  /** POSTs {@code body}; {@code headers} are name, value pairs. */
  public HttpResponse<byte[]> post(String path, byte[] body, String contentType, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b);
  }

  public HttpResponse<byte[]> send(HttpRequest.Builder builder)
      throws IOException, InterruptedException {
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Override
  public void close() {
    try {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.close();
    handler.close();
  }
}
