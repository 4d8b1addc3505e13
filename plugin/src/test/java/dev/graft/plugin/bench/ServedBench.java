package dev.graft.plugin.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.SplitOptions;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import dev.graft.plugin.state.StateLocation;
import dev.graft.plugin.testing.Fixtures;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The served figures of the suite, for one {@link Subject}: throughput at concurrency 8 over REST
 * binary and gRPC against in-process ONNX Runtime, and p99 latency (REST binary, concurrency 8)
 * with a churn thread attaching and detaching an RWS adapter once a second against the same load
 * without churn, in alternating windows. The host is a separate process ({@link ServedHost}) with
 * its default worker pool; the load generator and the in-process baseline run in this JVM.
 *
 * <p>The in-process baseline is the same runtime the server builds for the model folder ({@code
 * SplitOrtModelRuntime} unless {@code option.graft.split=off}), from the same {@code
 * serving.properties}, called by the same 8 callers with at most {@code p} ORT runs at once, for
 * each {@code p} of {@link Settings#permits}; the ratio is taken to the best of them.
 */
final class ServedBench {
  /** Caller threads of every served and in-process figure. */
  static final int CONCURRENCY = 8;

  /** The host's default worker pool ({@code graft.executor.threads}). */
  static final int SERVER_WORKERS = 4;

  private ServedBench() {}

  /**
   * How long and how.
   *
   * @param seconds measured seconds per throughput cell
   * @param warmup seconds of discarded load before each cell
   * @param churnPairs pairs of windows (one with churn, one without) per model
   * @param churnSeconds seconds per churn window
   * @param permits concurrent ORT runs allowed to the in-process callers, one cell each
   * @param grpcChannels channels the gRPC client spreads its callers over
   * @param maxWarmup seconds after which a cell's warm-up ends even if the JIT still compiles
   */
  record Settings(
      double seconds,
      double warmup,
      int churnPairs,
      double churnSeconds,
      List<Integer> permits,
      int grpcChannels,
      double maxWarmup) {
    static Settings of(boolean quick) {
      return quick
          ? new Settings(2, 1, 1, 3, List.of(SERVER_WORKERS), 4, 5)
          : new Settings(10, 3, 3, 10, List.of(1, 2, SERVER_WORKERS, CONCURRENCY), 4, 60);
    }
  }

  /**
   * One throughput cell.
   *
   * @param client {@code in-process}, {@code rest-binary} or {@code grpc}
   * @param permits concurrent ORT runs allowed in process (0 for served cells)
   * @param warmupSeconds the discarded load before the cell (until the JIT compilers were idle)
   */
  record Throughput(
      String client,
      int permits,
      int concurrency,
      double warmupSeconds,
      LoadRunner.Window window) {}

  /**
   * The churn figure of one model.
   *
   * @param quiet the windows without churn, merged
   * @param churn the windows with churn, merged
   * @param patches adapter changes made during the churn windows
   * @param patchFailures changes that failed
   * @param patchMs each change's call time, sorted
   */
  record Churn(
      LoadRunner.Window quiet,
      LoadRunner.Window churn,
      int patches,
      int patchFailures,
      double[] patchMs) {}

  /** Everything measured on one model. */
  record Result(
      String model,
      String layout,
      String sessionOptions,
      double maxOutputDiff,
      List<Throughput> throughput,
      Churn churn) {}

  static Result run(Subject subject, Path root, Path work, Settings s) throws Exception {
    Path dir = Files.createDirectories(work.resolve("served-" + subject.key()));
    Path store = Files.createDirectories(dir.resolve("store"));
    Served served = prepare(subject, store, work);
    ModelSettings settings = ModelSettings.readFolder(served.folder());
    ExecutorService pool = Executors.newCachedThreadPool();
    // management calls (adapter changes, GET /models/{m}) only; inference uses KeepAliveHttp
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(pool)
            .connectTimeout(java.time.Duration.ofSeconds(10))
            .build();
    FloatTensor input = subject.input();
    try (ModelRuntime inProcess = openLikeTheServer(served, settings, dir.resolve("cache"))) {
      float[] expected = first(inProcess, input);
      ProtocolFloor.write(store.resolve(ProtocolFloor.MODEL), input, expected.length);
      try (ServedHost host =
          ServedHost.start(
              root,
              dir,
              store,
              Map.of("graft.weight_cache", dir.resolve("host-cache").toString()))) {
        ServedAdapter adapter =
            new ServedAdapter(http, host.http(), served.name(), "bench", served.rws());
        try (RestBinaryLoad rest = new RestBinaryLoad(host.http(), served.name(), adapter);
            GrpcLoad grpc =
                new GrpcLoad(
                    host.grpcHost(), host.grpcPort(), s.grpcChannels(), served.name(), adapter);
            RestBinaryLoad floorRest = new RestBinaryLoad(host.http(), ProtocolFloor.MODEL, null);
            GrpcLoad floorGrpc =
                new GrpcLoad(
                    host.grpcHost(),
                    host.grpcPort(),
                    s.grpcChannels(),
                    ProtocolFloor.MODEL,
                    null)) {
          double diff =
              Math.max(maxDiff(expected, rest.infer(input)), maxDiff(expected, grpc.infer(input)));
          if (!(diff <= 1e-4)) {
            throw new IllegalStateException(
                subject.key() + ": served outputs differ from in-process ones by " + diff);
          }
          ProtocolFloor.check(input, floorRest.infer(input), expected.length);
          ProtocolFloor.check(input, floorGrpc.infer(input), expected.length);
          String layout = layout(http, host.http(), served.name());
          List<Throughput> cells = new ArrayList<>();
          for (int p : s.permits()) {
            Semaphore runs = new Semaphore(p);
            LoadRunner.Call call =
                i -> {
                  runs.acquire();
                  try {
                    first(inProcess, input);
                  } finally {
                    runs.release();
                  }
                };
            cells.add(measure("in-process", p, call, s, pool, null, JitActivity.thisJvm()));
            log(subject, "in-process, " + p + " runs at once", cells.get(cells.size() - 1));
          }
          for (ServedLoad load : List.of(rest, grpc, floorRest, floorGrpc)) {
            String client =
                load == floorRest || load == floorGrpc
                    ? load.name() + ProtocolFloor.SUFFIX
                    : load.name();
            LoadRunner.Call call = i -> load.infer(input);
            // both JVMs: the client's compilations would count as its CPU per request
            JitActivity jit = JitActivity.both(host.jit(), JitActivity.thisJvm());
            cells.add(measure(client, 0, call, s, pool, host::cpuNanos, jit));
            log(subject, client, cells.get(cells.size() - 1));
          }
          Churn churn = churn(rest, input, s, pool, host);
          return new Result(
              subject.key(),
              layout,
              String.format(
                  Locale.ROOT,
                  "intra-op %d, inter-op %d, %s, split %s",
                  settings.intraOpThreads(),
                  settings.interOpThreads(),
                  settings.optLevel(),
                  SplitOptions.of(settings).mode()),
              diff,
              cells,
              churn);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** A model folder in the host's store, and the signature its churn attaches. */
  private record Served(String name, Path folder, Path onnx, byte[] rws) {}

  private static Served prepare(Subject subject, Path store, Path work) throws IOException {
    Served served = prepareFolder(subject, store, work);
    forgetState(served.folder());
    return served;
  }

  /**
   * Removes the durable state a previous run left in a model folder (the churn's adapter, kept in
   * {@code graft.json} and {@code adapters/}), so that every run starts from the base model.
   */
  private static void forgetState(Path folder) throws IOException {
    StateLocation state = StateLocation.forFolder(folder);
    for (Path dir : List.of(state.uploads(), folder.resolve(StateLocation.HEADS))) {
      if (Files.isDirectory(dir)) {
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
          for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.delete(f);
          }
        }
      }
    }
    Files.deleteIfExists(state.manifest());
    Files.deleteIfExists(state.lockFile());
  }

  private static Served prepareFolder(Subject subject, Path store, Path work) throws IOException {
    if (subject.key().equals(Subject.VGG)) {
      Path folder = store.resolve("mnist-vgg");
      if (!Files.isDirectory(folder)) {
        Fixtures.copyExampleModel(store);
        // what auto chooses for this model on an idle machine (README), pinned: auto measures
        // build times, so server and baseline could otherwise choose differently under load
        Files.writeString(
            folder.resolve(ModelSettings.FILE_NAME),
            "\noption.graft.split=off\n",
            java.nio.file.StandardOpenOption.APPEND);
      }
      // the real signature of the fixtures: gaussian_noise, keep 4, 256 levels, projected
      byte[] rws = Fixtures.signature("gaussian_noise").toByteArray();
      return new Served("mnist-vgg", folder, folder.resolve("mnist-vgg.onnx"), rws);
    }
    Path folder = Files.createDirectories(store.resolve("vit"));
    Path onnx = folder.resolve("model.onnx");
    if (!Files.isRegularFile(onnx)) {
      Files.copy(subject.file(), onnx);
    }
    // the suite's model defaults (as Subject.settings): EXTENDED_OPT, ORT's default thread pools;
    // split on (auto's choice for this model, pinned as for the VGG): a patch rebuilds a stem
    Files.writeString(
        folder.resolve(ModelSettings.FILE_NAME),
        "engine=OnnxRuntime\noption.optLevel=EXTENDED_OPT\noption.graft.split=on\n");
    Path rwsFile = work.resolve("vit-bench.rws");
    if (!Files.isRegularFile(rwsFile)) {
      // an RWS signature of the suite's synthetic patch (alpha 1): keep 4, 256 levels
      OnnxModel clean = subject.read().model();
      OnnxModel robust = clean.withTensors(subject.variants(clean).get(3).overrides());
      RwsExtractor.extract(
              clean,
              robust,
              null,
              new RwsExtractor.Options("bench", "synthetic", 4, List.of(), 256, false, 0.30))
          .signature()
          .write(rwsFile);
    }
    return new Served("vit", folder, onnx, Files.readAllBytes(rwsFile));
  }

  /** The runtime {@code ModelLoader} builds for a plain (not OFQ-packed) ONNX model folder. */
  private static ModelRuntime openLikeTheServer(
      Served served, ModelSettings settings, Path weightCache) {
    ModelFile file = ModelFile.read(served.onnx());
    return SplitOptions.of(settings).mode() == SplitOptions.Mode.OFF
        ? OrtModelRuntime.open(served.name(), file, settings)
        : SplitOrtModelRuntime.open(served.name(), file, settings, weightCache);
  }

  private static float[] first(ModelRuntime runtime, FloatTensor input) {
    return runtime.infer(Map.of(input.name(), input), Set.of()).outputs().get(0).data();
  }

  private static double maxDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      return Double.POSITIVE_INFINITY;
    }
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }

  /**
   * One cell: warm-up load, discarded, for at least {@code s.warmup()} seconds and then until the
   * JIT compilers of the JVMs involved ({@code jit}: in process this one; served, the host and this
   * client) were idle over the last second (at most {@link Settings#maxWarmup} seconds: a server
   * that has run for a while is compiled, and C2 compiling the request path took a tenth of the
   * host's CPU well into the first minute); then the measured window.
   */
  private static Throughput measure(
      String client,
      int permits,
      LoadRunner.Call call,
      Settings s,
      ExecutorService pool,
      java.util.function.LongSupplier hostCpu,
      JitActivity jit)
      throws Exception {
    long start = System.nanoTime();
    LoadRunner.run(call, CONCURRENCY, s.warmup(), pool, hostCpu);
    while ((System.nanoTime() - start) / 1e9 < s.maxWarmup()) {
      long before = jit.cpuNanos();
      LoadRunner.run(call, CONCURRENCY, 1, pool, hostCpu);
      if (jit.cpuNanos() - before <= JitActivity.IDLE_NANOS_PER_SECOND) {
        break;
      }
    }
    double warmup = (System.nanoTime() - start) / 1e9;
    return new Throughput(
        client,
        permits,
        CONCURRENCY,
        warmup,
        LoadRunner.run(call, CONCURRENCY, s.seconds(), pool, hostCpu));
  }

  /**
   * Alternating windows of REST binary load at concurrency 8, with and without a churn thread that
   * flips the adapter once a second (attach, detach, ...; detached again before the next window, so
   * every quiet window runs on the base weights). Pairs alternate their order (quiet first, then
   * churn first) so that drifting load on the machine affects both alike.
   */
  private static Churn churn(
      ServedLoad load, FloatTensor input, Settings s, ExecutorService pool, ServedHost host)
      throws Exception {
    load.patch(false); // registers the adapter (detached): not part of any window
    LoadRunner.Call call =
        i -> {
          if (load.infer(input).length == 0) {
            throw new IllegalStateException("empty output");
          }
        };
    LoadRunner.run(call, CONCURRENCY, s.warmup(), pool, host::cpuNanos);
    List<LoadRunner.Window> quiet = new ArrayList<>();
    List<LoadRunner.Window> churned = new ArrayList<>();
    List<Double> patchMs = new ArrayList<>();
    AtomicInteger patchFailures = new AtomicInteger();
    for (int pair = 0; pair < s.churnPairs(); pair++) {
      for (boolean withChurn :
          pair % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
        if (!withChurn) {
          quiet.add(LoadRunner.run(call, CONCURRENCY, s.churnSeconds(), pool, host::cpuNanos));
          continue;
        }
        AtomicReference<Exception> stop = new AtomicReference<>();
        int changes = (int) Math.floor(s.churnSeconds());
        Thread churner =
            new Thread(
                () -> {
                  long t0 = System.nanoTime();
                  for (int k = 0; k < changes; k++) {
                    long due = t0 + k * 1_000_000_000L;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                      try {
                        TimeUnit.NANOSECONDS.sleep(wait);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                    boolean attach = k % 2 == 0;
                    long c0 = System.nanoTime();
                    try {
                      load.patch(attach);
                      synchronized (patchMs) {
                        patchMs.add((System.nanoTime() - c0) / 1e6);
                      }
                    } catch (Exception e) {
                      patchFailures.incrementAndGet();
                      stop.compareAndSet(null, e);
                    }
                  }
                },
                "churn");
        churner.start();
        churned.add(LoadRunner.run(call, CONCURRENCY, s.churnSeconds(), pool, host::cpuNanos));
        churner.join();
        if (changes % 2 == 1) {
          load.patch(false); // back to the base weights, between windows
        }
        if (stop.get() != null) {
          System.err.println("churn: a patch failed: " + stop.get());
        }
      }
    }
    load.patch(false);
    double[] ms = patchMs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new Churn(
        LoadRunner.Window.merge(quiet),
        LoadRunner.Window.merge(churned),
        ms.length + patchFailures.get(),
        patchFailures.get(),
        ms);
  }

  /** The {@code layout} object of {@code GET /models/{m}}, as JSON text, or {@code none}. */
  private static String layout(HttpClient http, URI base, String model) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(base.resolve("/models/" + model)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    JsonElement found = find(JsonParser.parseString(r.body()), "layout");
    return found == null ? "none" : found.toString();
  }

  private static JsonElement find(JsonElement e, String key) {
    if (e.isJsonObject()) {
      JsonObject o = e.getAsJsonObject();
      if (o.has(key)) {
        return o.get(key);
      }
      for (Map.Entry<String, JsonElement> c : o.entrySet()) {
        JsonElement f = find(c.getValue(), key);
        if (f != null) {
          return f;
        }
      }
    } else if (e.isJsonArray()) {
      for (JsonElement c : e.getAsJsonArray()) {
        JsonElement f = find(c, key);
        if (f != null) {
          return f;
        }
      }
    }
    return null;
  }

  private static void log(Subject subject, String what, Throughput t) {
    System.out.printf(
        Locale.ROOT,
        "served %s %s: %.1f req/s, p50 %.2f ms, p99 %.2f ms, %d failed%n",
        subject.key(),
        what,
        t.window().throughput(),
        t.window().percentileMs(0.5),
        t.window().percentileMs(0.99),
        t.window().failures());
  }
}
