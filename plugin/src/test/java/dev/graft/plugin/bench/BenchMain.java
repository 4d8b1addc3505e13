package dev.graft.plugin.bench;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.graft.plugin.testing.Fixtures;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The benchmark suite: runs every figure of issue 9 in one go and writes {@code report.md} and
 * {@code report.json}, each figure next to its baseline measured in the same run. Run it with
 * {@code bench/run} from the repository root (see {@code bench/README.md}).
 *
 * <p>Arguments: {@code --out DIR} (default {@code target/bench}), {@code --models vgg,vit}, {@code
 * --quick} (fewer iterations: a smoke run, not figures to quote), {@code --only
 * patch|infer|memory|served|ofq} (repeatable).
 */
public final class BenchMain {
  private BenchMain() {}

  /** What one run measures and how long. */
  record Settings(
      Path out,
      List<String> models,
      boolean quick,
      List<String> only,
      int patchWarmups,
      int patchIterations,
      int inferIterations) {
    static Settings parse(String[] args) {
      Path out = Path.of("target", "bench");
      List<String> models = List.of(Subject.VGG, Subject.VIT);
      boolean quick = false;
      List<String> only = new ArrayList<>();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--out" -> out = Path.of(args[++i]);
          case "--models" -> models = List.of(args[++i].split(","));
          case "--quick" -> quick = true;
          case "--only" -> only.add(args[++i]);
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
      // 50 warm-up patches: a server that patches runs compiled code (5 left the compact path,
      // which is Java until ONNX Runtime runs, 2-3x slower than once compiled)
      return new Settings(out, models, quick, only, quick ? 2 : 50, quick ? 3 : 15, quick ? 2 : 5);
    }

    boolean runs(String part) {
      return only.isEmpty() || only.contains(part);
    }
  }

  public static void main(String[] args) throws Exception {
    Settings s = Settings.parse(args);
    Path work = s.out().resolve("work").toAbsolutePath();
    Files.createDirectories(work);
    System.setProperty(Subject.WORK, work.toString());
    for (String m : s.models()) {
      Subject.of(m, work); // generates the ViT once, before the forks need it
    }
    Report report = new Report(s, Machine.describe());
    if (s.runs("patch")) {
      report.timeToPatched(jmh(s, PatchBench.class, s.patchWarmups(), s.patchIterations(), work));
    }
    if (s.runs("infer")) {
      report.inference(jmh(s, InferBench.class, s.inferIterations(), s.inferIterations(), work));
    }
    if (s.runs("memory")) {
      Map<String, Map<String, JsonObject>> memory = new LinkedHashMap<>();
      Map<String, Long> patchedBytes = new LinkedHashMap<>();
      for (String m : s.models()) {
        Subject subject = Subject.of(m, work);
        patchedBytes.put(m, subject.patchedBytes(subject.read().model()));
        Map<String, JsonObject> byScenario = new LinkedHashMap<>();
        for (String scenario : Report.memoryScenarios()) {
          byScenario.put(scenario, probe(scenario, m, work));
        }
        memory.put(m, byScenario);
      }
      report.memory(memory, patchedBytes);
    }
    if (s.runs("served")) {
      ServedBench.Settings served = ServedBench.Settings.of(s.quick());
      List<ServedBench.Result> results = new ArrayList<>();
      for (String m : s.models()) {
        results.add(ServedBench.run(Subject.of(m, work), Fixtures.repoRoot(), work, served));
      }
      report.section(
          "served",
          ServedReport.json(results),
          ServedReport.throughputMarkdown(results, served)
              + ServedReport.churnMarkdown(results, served));
    } else {
      report.notMeasured("served throughput and p99 latency under churn", "left out with --only");
    }
    if (s.runs("ofq")) {
      JsonArray ofq = OfqFigures.run(work, s.quick());
      report.section("ofq", ofq, OfqFigures.markdown(ofq, s.quick()));
    } else {
      report.notMeasured("2-bit OFQ variants vs fp32", "left out with --only");
    }
    report.finish(Machine.loadAverage());
    report.write(s.out());
    System.out.println("wrote " + s.out().resolve("report.md") + " and report.json");
  }

  private static Collection<RunResult> jmh(
      Settings s, Class<?> bench, int warmups, int iterations, Path work) throws RunnerException {
    ChainedOptionsBuilder o =
        new OptionsBuilder()
            .include(bench.getName() + "\\.")
            .param("model", s.models().toArray(new String[0]))
            .forks(1)
            .warmupIterations(warmups)
            .measurementIterations(iterations)
            .jvmArgs("-Xmx2g", "-D" + Subject.WORK + "=" + work)
            .shouldFailOnError(true);
    if (bench == InferBench.class) {
      o.warmupTime(TimeValue.seconds(1)).measurementTime(TimeValue.seconds(1));
    }
    return new Runner(o.build()).run();
  }

  /** Runs one {@link MemoryProbe} in its own JVM and returns its JSON line. */
  private static JsonObject probe(String scenario, String model, Path work)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC"));
    cmd.add("-D" + Subject.WORK + "=" + work);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
    cmd.addAll(List.of(MemoryProbe.class.getName(), scenario, model));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String json = null;
    StringBuilder all = new StringBuilder();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        all.append(line).append('\n');
        if (line.startsWith("{\"scenario\"")) {
          json = line;
        }
      }
    }
    if (p.waitFor() != 0 || json == null) {
      throw new IllegalStateException(
          "memory probe " + scenario + "/" + model + " failed:\n" + all);
    }
    System.out.println("memory " + json);
    return new Gson().fromJson(json, JsonObject.class);
  }
}
