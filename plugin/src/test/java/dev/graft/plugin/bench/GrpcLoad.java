package dev.graft.plugin.bench;

import com.google.protobuf.ByteString;
import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.grpc.proto.GRPCInferenceServiceGrpc;
import dev.graft.plugin.grpc.proto.ModelInferRequest;
import dev.graft.plugin.grpc.proto.ModelInferResponse;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * KServe v2 gRPC {@code ModelInfer} with {@code raw_input_contents}, grpc-java blocking stubs over
 * {@code channels} channels (HTTP/2 connections), calls spread over them round robin: one channel
 * multiplexes every caller over one connection and one client event loop, several spread them like
 * REST's connection per caller; their buffers come from a pool with 8 MiB chunks ({@link
 * #BUFFERS}). Requests are built once per input object. Owns its channels; the adapter's management
 * calls go over REST ({@code adapter} may be null: no {@link #patch}). Thread safe.
 */
final class GrpcLoad implements ServedLoad {
  /**
   * The channels' buffers: Netty's pool with 8 MiB chunks (docs/http-api.md, "Large tensors").
   * grpc-java's default pool cuts 2 MiB chunks, and a 588 KiB request framed into one buffer takes
   * a fresh chunk that is freed again when the request is sent: a 2 MiB map, zeroing and unmap per
   * ViT request. A client can choose this, as here, or set the system property {@code
   * io.grpc.netty.shaded.io.netty.allocator.maxOrder=10}.
   */
  private static final PooledByteBufAllocator BUFFERS =
      new PooledByteBufAllocator(
          true,
          0,
          PooledByteBufAllocator.defaultNumDirectArena(),
          8192,
          10,
          PooledByteBufAllocator.defaultSmallCacheSize(),
          PooledByteBufAllocator.defaultNormalCacheSize(),
          PooledByteBufAllocator.defaultUseCacheForAllThreads());

  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub> stubs =
      new ArrayList<>();
  private final AtomicInteger next = new AtomicInteger();
  private final String model;
  private final ServedAdapter adapter;
  // by identity: FloatTensor's equals compares every float
  private final Map<FloatTensor, ModelInferRequest> requests =
      Collections.synchronizedMap(new IdentityHashMap<>());

  GrpcLoad(String host, int port, int channels, String model, ServedAdapter adapter) {
    this.model = model;
    this.adapter = adapter;
    for (int i = 0; i < channels; i++) {
      ManagedChannel c =
          NettyChannelBuilder.forAddress(host, port, InsecureChannelCredentials.create())
              .maxInboundMessageSize(64 << 20)
              .withOption(ChannelOption.ALLOCATOR, BUFFERS)
              .build();
      this.channels.add(c);
      stubs.add(GRPCInferenceServiceGrpc.newBlockingStub(c));
    }
  }

  @Override
  public String name() {
    return "grpc";
  }

  @Override
  public float[] infer(FloatTensor input) {
    ModelInferRequest request = requests.computeIfAbsent(input, this::encode);
    int i = Math.floorMod(next.getAndIncrement(), stubs.size());
    ModelInferResponse r = stubs.get(i).withDeadlineAfter(60, TimeUnit.SECONDS).modelInfer(request);
    if (r.getRawOutputContentsCount() == 0) {
      throw new IllegalStateException("no raw_output_contents in the response");
    }
    ByteString raw = r.getRawOutputContents(0);
    float[] out = new float[raw.size() / Float.BYTES];
    raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  private ModelInferRequest encode(FloatTensor input) {
    ByteBuffer raw =
        ByteBuffer.allocate(input.data().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(input.data());
    return ModelInferRequest.newBuilder()
        .setModelName(model)
        .addInputs(
            ModelInferRequest.InferInputTensor.newBuilder()
                .setName(input.name())
                .setDatatype("FP32")
                .addAllShape(Arrays.stream(input.dims()).boxed().toList()))
        .addRawInputContents(ByteString.copyFrom(raw.array()))
        .build();
  }

  @Override
  public void patch(boolean attach) throws Exception {
    ServedAdapter.require(adapter).set(attach);
  }

  @Override
  public void close() {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      try {
        c.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
