package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.testing.Fixtures;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WeightStateTest {
  private OrtModelRuntime runtime;

  @BeforeEach
  void open() {
    runtime =
        OrtModelRuntime.open(
            "vgg", ModelFile.read(Fixtures.vgg("clean")), ModelSettings.defaults());
  }

  @AfterEach
  void close() {
    runtime.close();
  }

  @Test
  void oldSessionClosesOnlyAfterTheInFlightRequestReleasesIt() throws Exception {
    CountDownLatch acquired = new CountDownLatch(1);
    CountDownLatch swapped = new CountDownLatch(1);
    AtomicReference<float[]> inFlightResult = new AtomicReference<>();
    AtomicReference<WeightState> held = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread request =
        new Thread(
            () -> {
              WeightState state = runtime.acquire();
              held.set(state);
              try {
                acquired.countDown();
                swapped.await();
                if (state.isClosed()) {
                  throw new AssertionError("the session was closed under an in-flight request");
                }
                // the old session must still work although it is no longer current
                inFlightResult.set(run(state.session()));
              } catch (Throwable t) {
                failure.set(t);
              } finally {
                state.release();
              }
            });
    request.start();
    acquired.await();
    WeightState old = held.get();

    try {
      runtime.swapWeights(
          new Weights("gaussian_noise@1.0", OrtModelRuntimeTest.gaussianNoisePatch()));

      assertThat(runtime.currentState()).as("new requests get the new state").isNotSameAs(old);
      assertThat(old.isClosed()).as("old state stays open while a request holds it").isFalse();
      assertThat(old.references()).as("only the in-flight request holds it").isEqualTo(1);
    } finally {
      swapped.countDown(); // never leave the request thread waiting, even when an assertion fails
    }
    request.join();

    assertThat(failure.get()).as("the in-flight request ran on the old session").isNull();
    assertThat(inFlightResult.get()).isNotNull();
    assertThat(old.isClosed()).as("released by its last request, the old state is closed").isTrue();
    assertThat(old.tryAcquire()).as("a closed state cannot be acquired again").isFalse();
  }

  @Test
  void retiredStateWithoutRequestsClosesAtTheSwap() {
    WeightState old = runtime.currentState();
    runtime.swapWeights(
        new Weights("gaussian_noise@1.0", OrtModelRuntimeTest.gaussianNoisePatch()));
    assertThat(old.isClosed()).isTrue();
    assertThat(runtime.currentState().isClosed()).isFalse();
  }

  @Test
  void closingTheRuntimeWaitsForInFlightRequests() {
    WeightState state = runtime.acquire();
    runtime.close();
    assertThat(state.isClosed()).as("still held by a request").isFalse();
    state.release();
    assertThat(state.isClosed()).isTrue();
  }

  @Test
  void releasingMoreThanAcquiredIsABug() {
    WeightState state = runtime.acquire();
    state.release();
    runtime.close();
    assertThatThrownBy(state::release).isInstanceOf(IllegalStateException.class);
  }

  private static float[] run(OrtSession session) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    FloatTensor x = new FloatTensor("input", new long[] {1, 1, 28, 28}, Fixtures.testImages("", 1));
    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.data()), x.dims());
        OrtSession.Result r = session.run(Map.of("input", t))) {
      return ((float[][]) r.get(0).getValue())[0];
    }
  }
}
