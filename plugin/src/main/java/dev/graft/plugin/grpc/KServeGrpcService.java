package dev.graft.plugin.grpc;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.grpc.proto.GRPCInferenceServiceGrpc;
import dev.graft.plugin.grpc.proto.ModelInferRequest;
import dev.graft.plugin.grpc.proto.ModelInferResponse;
import dev.graft.plugin.grpc.proto.ModelMetadataRequest;
import dev.graft.plugin.grpc.proto.ModelMetadataResponse;
import dev.graft.plugin.grpc.proto.ModelReadyRequest;
import dev.graft.plugin.grpc.proto.ModelReadyResponse;
import dev.graft.plugin.grpc.proto.ServerLiveRequest;
import dev.graft.plugin.grpc.proto.ServerLiveResponse;
import dev.graft.plugin.grpc.proto.ServerMetadataRequest;
import dev.graft.plugin.grpc.proto.ServerMetadataResponse;
import dev.graft.plugin.grpc.proto.ServerReadyRequest;
import dev.graft.plugin.grpc.proto.ServerReadyResponse;
import dev.graft.plugin.kserve.KServeInference;
import dev.graft.plugin.kserve.ServerMetadata;
import dev.graft.plugin.metrics.Metrics;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The {@code inference.GRPCInferenceService} over {@link KServeInference}. Health and metadata
 * calls answer on the gRPC executor; {@code ModelInfer} runs on the plugin's bounded worker pool
 * (shared with REST), and a full pool answers {@code UNAVAILABLE}. Per-request adapters come from
 * the request's {@code adapters} parameter. Thread safe.
 */
final class KServeGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  private final KServeInference kserve;
  private final Executor workers;
  private final Metrics metrics;

  KServeGrpcService(KServeInference kserve, Executor workers, Metrics metrics) {
    this.kserve = kserve;
    this.workers = workers;
    this.metrics = metrics;
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
    answer(out, "ServerLive", () -> ServerLiveResponse.newBuilder().setLive(kserve.live()).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
    answer(
        out,
        "ServerReady",
        () -> ServerReadyResponse.newBuilder().setReady(kserve.ready()).build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
    answer(
        out,
        "ModelReady",
        () ->
            ModelReadyResponse.newBuilder()
                .setReady(kserve.modelReady(request.getName(), request.getVersion()))
                .build());
  }

  @Override
  public void serverMetadata(
      ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
    answer(
        out,
        "ServerMetadata",
        () -> {
          ServerMetadata s = kserve.serverMetadata();
          return ServerMetadataResponse.newBuilder()
              .setName(s.name())
              .setVersion(s.version())
              .addAllExtensions(s.extensions())
              .build();
        });
  }

  @Override
  public void modelMetadata(
      ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
    answer(
        out,
        "ModelMetadata",
        () -> ProtoTensors.metadata(kserve.modelMetadata(request.getName(), request.getVersion())));
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
    long received = System.nanoTime();
    try {
      workers.execute(() -> infer(request, out, received));
    } catch (RejectedExecutionException e) {
      GraftException full =
          new GraftException(
              GraftException.Code.UNAVAILABLE,
              "over capacity: the request queue is full, retry later");
      Status status = GrpcStatuses.of(full, "ModelInfer");
      record(request.getModelName(), status, -1, -1);
      out.onError(status.asRuntimeException());
    }
  }

  private void infer(ModelInferRequest request, StreamObserver<ModelInferResponse> out, long t0) {
    long start = System.nanoTime();
    ModelInferResponse response;
    try {
      response = ProtoTensors.response(kserve.infer(ProtoTensors.request(request), List.of()));
    } catch (Throwable t) { // the client must get an answer whatever happened
      Status status = GrpcStatuses.of(t, "ModelInfer");
      record(request.getModelName(), status, start - t0, System.nanoTime() - start);
      out.onError(status.asRuntimeException());
      return;
    }
    record(request.getModelName(), Status.OK, start - t0, System.nanoTime() - start);
    out.onNext(response);
    out.onCompleted();
  }

  private void record(String model, Status status, long queueNanos, long computeNanos) {
    String label = isRegistered(model) ? model : "_unknown";
    metrics.request(label, Metrics.GRPC, status.getCode().name(), queueNanos, computeNanos);
  }

  private boolean isRegistered(String model) {
    try {
      kserve.registry().get(model);
      return true;
    } catch (GraftException e) {
      return false;
    }
  }

  private static <T> void answer(StreamObserver<T> out, String method, Supplier<T> work) {
    T value;
    try {
      value = work.get();
    } catch (RuntimeException e) {
      out.onError(GrpcStatuses.of(e, method).asRuntimeException());
      return;
    }
    out.onNext(value);
    out.onCompleted();
  }
}
