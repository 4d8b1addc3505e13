package dev.graft.plugin.bench;

import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import dev.graft.plugin.runtime.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One memory measurement, in a JVM of its own (the launcher starts one per scenario, with a fixed,
 * pre-touched heap so that only native memory moves): resident memory before the model's sessions
 * exist and after, with every session having run one inference. Prints one JSON line.
 *
 * <p>Scenarios: {@code one} (the split runtime, base weights), {@code split8} (plus 8 variants,
 * each a stem on the shared body), {@code leanone} and {@code lean8} (the same with lean stems:
 * {@code option.graft.split.prepack=false}), {@code compact8} (the model as served plus 8 variants
 * stored as byte deltas on one shared delta stem: {@code option.graft.split.compact=true}; scales
 * of one signature, so they share its index), {@code compact8own} (the same with an index of its
 * own per variant, as 8 different signatures have), {@code whole8} (8 variants as whole sessions
 * over the memory-mapped base weights), {@code copies8} (8 plain runtimes, each patched: 8 full
 * copies), {@code plain1} (one plain runtime: one model without memory mapping).
 */
public final class MemoryProbe {
  private MemoryProbe() {}

  public static void main(String[] args) throws Exception {
    String scenario = args[0];
    Subject subject = Subject.of(args[1], Subject.work());
    ModelFile file = subject.read();
    List<Weights> variants = subject.variants(file.model());
    Path cache = Subject.work().resolve("cache");
    warmUpOnnxRuntime(subject, cache);
    Rss before = Rss.settled();
    List<AutoCloseable> held = new ArrayList<>();
    switch (scenario) {
      case "one", "leanone" ->
          held.add(run(split(subject, file, cache, "on", scenario.equals("leanone")), subject));
      case "plain1" ->
          held.add(run(OrtModelRuntime.open("m", file, subject.settings("off")), subject));
      case "compact8", "compact8own" -> {
        SplitOrtModelRuntime r =
            SplitOrtModelRuntime.open(
                "m",
                file,
                ModelSettings.parse(
                    Map.of("option.graft.split", "on", "option.graft.split.compact", "true"),
                    "bench"),
                cache);
        held.add(run(r, subject));
        for (Weights w : variants) {
          SplitOrtModelRuntime.Variant v =
              r.openVariant(scenario.equals("compact8own") ? Subject.ownIndexes(w) : w);
          if (!v.isCompact()) {
            throw new IllegalStateException(w.label() + " did not encode as byte deltas");
          }
          v.infer(subject.feeds(), Set.of());
          held.add(v);
        }
      }
      case "split8", "lean8", "whole8" -> {
        SplitOrtModelRuntime r =
            split(
                subject,
                file,
                cache,
                scenario.equals("whole8") ? "off" : "on",
                scenario.equals("lean8"));
        held.add(run(r, subject));
        for (Weights w : variants) {
          SplitOrtModelRuntime.Variant v = r.openVariant(w);
          v.infer(subject.feeds(), Set.of());
          held.add(v);
        }
      }
      case "copies8" -> {
        for (Weights w : variants) {
          OrtModelRuntime r = OrtModelRuntime.open("m", file, subject.settings("off"));
          r.swapWeights(w);
          held.add(run(r, subject));
        }
      }
      default -> throw new IllegalArgumentException("unknown scenario " + scenario);
    }
    Rss after = Rss.settled();
    System.out.printf(
        "{\"scenario\":\"%s\",\"model\":\"%s\",\"before\":%s,\"after\":%s}%n",
        scenario, subject.key(), before.json(), after.json());
    for (int i = held.size() - 1; i >= 0; i--) {
      held.get(i).close();
    }
  }

  private static SplitOrtModelRuntime split(
      Subject subject, ModelFile file, Path cache, String mode, boolean lean) {
    return SplitOrtModelRuntime.open("m", file, subject.settings(mode, lean), cache);
  }

  private static <R extends ModelRuntime> R run(R runtime, Subject subject) {
    runtime.infer(subject.feeds(), Set.of());
    return runtime;
  }

  /** Loads ONNX Runtime's library and kernels before the first reading (on the VGG fixture). */
  private static void warmUpOnnxRuntime(Subject subject, Path cache) {
    Subject vgg = Subject.of(Subject.VGG, Subject.work());
    try (ModelRuntime r =
        SplitOrtModelRuntime.open("warmup", vgg.read(), subject.settings("on"), cache)) {
      r.infer(vgg.feeds(), Set.of());
    }
  }

  /** Resident memory from {@code /proc/self/status}, in KiB. */
  record Rss(long total, long anon, long file) {
    static Rss settled() throws Exception {
      System.gc();
      // a reading, not a synchronisation: nothing signals when freed native pages are unmapped
      Thread.sleep(300);
      long total = 0;
      long anon = 0;
      long file = 0;
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        String[] f = line.split("\\s+");
        switch (f[0]) {
          case "VmRSS:" -> total = Long.parseLong(f[1]);
          case "RssAnon:" -> anon = Long.parseLong(f[1]);
          case "RssFile:" -> file = Long.parseLong(f[1]);
          default -> {
            // other fields are not reported
          }
        }
      }
      return new Rss(total, anon, file);
    }

    String json() {
      return String.format("{\"rssKiB\":%d,\"anonKiB\":%d,\"fileKiB\":%d}", total, anon, file);
    }
  }
}
