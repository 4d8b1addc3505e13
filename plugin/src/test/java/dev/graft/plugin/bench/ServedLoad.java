package dev.graft.plugin.bench;

import dev.graft.onnx.FloatTensor;

/**
 * One client of a served model, for the served figures of the benchmark suite (throughput at
 * concurrency 8 and p99 latency under 1 patch/s churn): {@link RestBinaryLoad} (KServe v2 REST with
 * the binary tensor extension) and {@link GrpcLoad} (KServe v2 gRPC {@code ModelInfer}), each
 * against a {@link ServedHost} started as a separate process. {@link ServedBench} drives one from 8
 * caller threads for a bounded time, with and without a churn thread calling {@link #patch} once a
 * second. Implementations are thread safe.
 */
interface ServedLoad extends AutoCloseable {
  /** The front end's name in the report, e.g. {@code rest-binary} or {@code grpc}. */
  String name();

  /**
   * One inference of one input; returns the first output the server sent. Throws on anything but a
   * successful, well-formed response.
   */
  float[] infer(FloatTensor input) throws Exception;

  /** Attaches (or detaches, when {@code attach} is false) the benchmark adapter; for churn. */
  void patch(boolean attach) throws Exception;

  /** Closes the client side (connections); the host is stopped by whoever started it. */
  @Override
  void close() throws java.io.IOException;
}
