package dev.graft.plugin.bench;

import dev.graft.onnx.FloatTensor;

/**
 * The hook for the served figures of the benchmark suite: served throughput at concurrency 8 and
 * p99 latency under 1 patch/s churn, each against in-process ONNX Runtime measured in the same run.
 * They need the binary front ends of issue 7 (KServe v2 REST with binary tensor data, and gRPC);
 * the plugin does not have them yet, so {@link BenchMain} reports these figures as not measured. An
 * implementation sends one request per call to a host started on a free loopback port, and {@link
 * BenchMain} drives it from 8 client threads, for a bounded time, with and without a churn thread
 * attaching and detaching an adapter once a second.
 */
interface ServedLoad extends AutoCloseable {
  /** The front end's name in the report, e.g. {@code rest-binary} or {@code grpc}. */
  String name();

  /** One inference; returns the outputs the server sent. */
  float[] infer(FloatTensor input) throws Exception;

  /** Attaches (or detaches, when {@code attach} is false) the benchmark adapter; for churn. */
  void patch(boolean attach) throws Exception;

  /** Closes the client side (connections); the host is stopped by whoever started it. */
  @Override
  void close() throws java.io.IOException;
}
