package dev.graft.plugin.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Graft's metrics, kept in a Prometheus registry of their own (never the library's default
 * registry, so several plugin instances in one JVM do not mix) and scraped as the Prometheus text
 * format by {@code GET /metrics}.
 *
 * <ul>
 *   <li>{@code graft_requests_total{model,protocol,status}}: inference requests by protocol
 *       ({@value #REST_V2}, {@value #REST_PREDICTIONS}, {@value #GRPC}) and outcome (the HTTP
 *       status code, or the gRPC status name).
 *   <li>{@code graft_request_queue_seconds{model,protocol}}: time from receipt to a worker picking
 *       the request up; {@code graft_request_compute_seconds{model,protocol}}: time on the worker
 *       (decoding, inference, encoding).
 *   <li>{@code graft_adapter_operations_total{model,operation}}: adapters attached, detached and
 *       re-scaled while attached.
 *   <li>{@code graft_weights_build_seconds{model,kind}}: building new weights: {@code swap} (a
 *       management call that changed the live weights) or {@code variant} (weights built for
 *       requests that chose their own adapters).
 *   <li>{@code graft_head_version{model,head}}: the version of each model's classifier head that
 *       answers requests, read at scrape time (so changes replayed at start-up or made by another
 *       replica show too).
 *   <li>{@code graft_weight_bytes{model}}: bytes of weights each model holds in memory, read at
 *       scrape time.
 * </ul>
 *
 * <p>Thread safe; recording is lock-free.
 */
public final class Metrics {
  public static final String REST_V2 = "rest_v2";
  public static final String REST_PREDICTIONS = "rest_predictions";
  public static final String GRPC = "grpc";

  /** The content type of {@link #scrape()}. */
  public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private static final double[] LATENCY_BUCKETS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };
  private static final double NANOS = 1e9;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Counter requests;
  private final Histogram queue;
  private final Histogram compute;
  private final Counter adapterOperations;
  private final Histogram builds;

  /** The version of one model's classifier head, for {@code graft_head_version}. */
  public record HeadVersionValue(String model, String head, long version) {}

  /**
   * @param weightBytes the bytes of weights in memory per model name, called at each scrape
   * @param headVersions the current version of every model's head, called at each scrape
   */
  public Metrics(
      Supplier<Map<String, Long>> weightBytes, Supplier<List<HeadVersionValue>> headVersions) {
    requests =
        Counter.builder()
            .name("graft_requests_total")
            .help("Inference requests by model, protocol and status")
            .labelNames("model", "protocol", "status")
            .register(registry);
    queue =
        latency("graft_request_queue_seconds", "Time from receipt until a worker starts a request")
            .labelNames("model", "protocol")
            .register(registry);
    compute =
        latency("graft_request_compute_seconds", "Time a worker spends on a request")
            .labelNames("model", "protocol")
            .register(registry);
    adapterOperations =
        Counter.builder()
            .name("graft_adapter_operations_total")
            .help("Adapters attached, detached and re-scaled while attached")
            .labelNames("model", "operation")
            .register(registry);
    builds =
        latency("graft_weights_build_seconds", "Time to build new weights (swap or variant)")
            .labelNames("model", "kind")
            .register(registry);
    GaugeWithCallback.builder()
        .name("graft_head_version")
        .help("Version of a model's classifier head that answers requests")
        .labelNames("model", "head")
        .callback(cb -> headVersions.get().forEach(v -> cb.call(v.version(), v.model(), v.head())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("graft_weight_bytes")
        .help("Bytes of weights a model holds in memory (estimate)")
        .labelNames("model")
        .callback(cb -> weightBytes.get().forEach((model, bytes) -> cb.call(bytes, model)))
        .register(registry);
  }

  private static Histogram.Builder latency(String name, String help) {
    return Histogram.builder()
        .name(name)
        .help(help)
        .classicOnly()
        .classicUpperBounds(LATENCY_BUCKETS);
  }

  /**
   * Records one finished inference request.
   *
   * @param status the HTTP status code or gRPC status name
   * @param queueNanos time waiting for a worker; negative when it never reached one
   * @param computeNanos time on the worker; negative when it never reached one
   */
  public void request(
      String model, String protocol, String status, long queueNanos, long computeNanos) {
    requests.labelValues(model, protocol, status).inc();
    if (queueNanos >= 0) {
      queue.labelValues(model, protocol).observe(queueNanos / NANOS);
    }
    if (computeNanos >= 0) {
      compute.labelValues(model, protocol).observe(computeNanos / NANOS);
    }
  }

  /** Counts adapter operations: {@code attach}, {@code detach} or {@code rescale}. */
  public void adapterOperation(String model, String operation, int count) {
    if (count > 0) {
      adapterOperations.labelValues(model, operation).inc(count);
    }
  }

  /** Records the time to build new weights; {@code kind} is {@code swap} or {@code variant}. */
  public void weightsBuilt(String model, String kind, long nanos) {
    builds.labelValues(model, kind).observe(nanos / NANOS);
  }

  /** Every metric in the Prometheus text format (version 0.0.4). */
  public byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory cannot fail", e);
    }
    return out.toByteArray();
  }
}
