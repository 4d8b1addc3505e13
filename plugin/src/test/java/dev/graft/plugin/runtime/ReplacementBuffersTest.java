package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.graft.onnx.FloatTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class ReplacementBuffersTest {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final ReplacementBuffers buffers = new ReplacementBuffers();

  private static FloatTensor filled(int n, float v) {
    float[] d = new float[n];
    java.util.Arrays.fill(d, v);
    d[n - 1] = -v;
    return new FloatTensor("w", new long[] {n}, d);
  }

  private static float[] values(OnnxTensor t) throws Exception {
    return ((float[]) t.getValue()).clone();
  }

  @Test
  void aReleasedBufferServesTheNextTensorOfItsSizeOverwrittenWhole() throws Exception {
    OnnxTensor first = buffers.tensor(env, filled(1000, 1.5f));
    assertThat(values(first)).startsWith(1.5f).endsWith(-1.5f);
    ByteBuffer firstBuffer = (ByteBuffer) first.getBufferRef().orElseThrow();
    firstBuffer.putFloat(4, 7f);
    assertThat(values(first)[1])
        .as("ONNX Runtime reads the buffer itself, not a copy of it")
        .isEqualTo(7f);
    buffers.release(first);
    assertThat(buffers.idleBytes()).isEqualTo(4000);

    OnnxTensor second = buffers.tensor(env, filled(1000, 2.25f));
    assertThat(buffers.idleBytes()).as("the idle buffer was taken").isZero();
    assertThat(values(second))
        .as("and overwritten whole: nothing of the first tensor is left")
        .containsOnly(2.25f, -2.25f)
        .endsWith(-2.25f);

    OnnxTensor other = buffers.tensor(env, filled(999, 3f));
    buffers.release(second);
    buffers.release(other);
    assertThat(buffers.idleBytes()).isEqualTo(4000 + 3996);
  }

  @Test
  void idleBuffersStayWithinTheirBoundAndNoneAreKeptOnceClosed() throws Exception {
    int floats = (int) (ReplacementBuffers.MAX_IDLE_BYTES / Float.BYTES / 3);
    OnnxTensor[] held = new OnnxTensor[5];
    for (int i = 0; i < held.length; i++) {
      held[i] = buffers.tensor(env, filled(floats, i + 1));
    }
    for (OnnxTensor t : held) {
      buffers.release(t);
    }
    assertThat(buffers.idleBytes()).isEqualTo(3L * floats * Float.BYTES);

    buffers.close();
    assertThat(buffers.idleBytes()).isZero();
    OnnxTensor after = buffers.tensor(env, filled(floats, 9));
    buffers.release(after);
    assertThat(buffers.idleBytes()).as("a closed pool keeps nothing").isZero();
  }

  @Test
  void aTensorOverSomeoneElsesBufferIsClosedButNotKept() throws Exception {
    FloatBuffer heap = FloatBuffer.wrap(new float[] {1, 2, 3});
    OnnxTensor copied = OnnxTensor.createTensor(env, heap, new long[] {3});
    buffers.release(copied);
    ByteBuffer direct = ByteBuffer.allocateDirect(12).order(ByteOrder.nativeOrder());
    OnnxTensor floatsView = OnnxTensor.createTensor(env, direct.asFloatBuffer(), new long[] {3});
    buffers.release(floatsView);
    assertThat(buffers.idleBytes()).isZero();
  }
}
