package dev.graft.plugin.bench;

import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the split costs per inference: one image through stem + shared body ({@code split}; {@code
 * lean}: the same without pre-packed weights) next to one whole-model session ({@code whole}, the
 * plain runtime), in process, one caller.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class InferBench {
  @Param({Subject.VGG, Subject.VIT})
  public String model;

  @Param({"split", "lean", "whole"})
  public String layout;

  private Subject subject;
  private ModelRuntime runtime;

  @Setup(Level.Trial)
  public void setUp() {
    subject = Subject.of(model, Subject.work());
    runtime =
        layout.equals("whole")
            ? OrtModelRuntime.open(model, subject.read(), subject.settings("off"))
            : SplitOrtModelRuntime.open(
                model,
                subject.read(),
                subject.settings("on", layout.equals("lean")),
                Subject.work().resolve("cache"));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    runtime.close();
  }

  @Benchmark
  public float infer() {
    return runtime.infer(subject.feeds(), Set.of()).outputs().get(0).data()[0];
  }
}
