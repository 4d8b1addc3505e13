package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.graft.onnx.FloatTensor;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Direct buffers for the replaced tensors of exact stems, reused from one weight state to the next.
 * A new direct buffer costs more than the copy into it: zeroed by Java, then faulted in page by
 * page (measured: 5 ms for the 8.3 MB of a DeiT-S stem's replacements, where copying into a buffer
 * in use before costs a fraction of that), and a patch replaces the same tensors again and again. A
 * buffer comes back only with {@link #release}, after the session that read it has closed, and is
 * overwritten whole before its next use.
 *
 * <p>Keeps at most {@link #MAX_IDLE_BYTES} of idle buffers, by capacity; beyond, and once closed,
 * returned buffers are left to the garbage collector, which frees direct memory. Thread safe.
 */
final class ReplacementBuffers {
  /** Idle bytes kept for reuse. */
  static final long MAX_IDLE_BYTES = 32L << 20;

  private final Map<Integer, ArrayDeque<ByteBuffer>> idle = new HashMap<>(); // by capacity
  private long idleBytes;
  private boolean closed;

  /** A float32 tensor of {@code t}'s values over a direct buffer, idle or new. */
  OnnxTensor tensor(OrtEnvironment env, FloatTensor t) throws OrtException {
    int bytes = Math.multiplyExact(t.data().length, Float.BYTES);
    ByteBuffer b = take(bytes);
    if (b == null) {
      b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }
    b.clear();
    b.asFloatBuffer().put(t.data());
    return OnnxTensor.createTensor(env, b, t.dims(), OnnxJavaType.FLOAT);
  }

  /**
   * Closes {@code tensor} and keeps its buffer for a later one. No session may read it any more.
   */
  void release(OnnxTensor tensor) {
    Buffer b = tensor.getBufferRef().orElse(null);
    tensor.close();
    if (b instanceof ByteBuffer bytes && bytes.isDirect()) {
      give(bytes);
    }
  }

  /** Bytes of the idle buffers. */
  synchronized long idleBytes() {
    return idleBytes;
  }

  /** Drops the idle buffers and keeps none from now on. */
  synchronized void close() {
    closed = true;
    idle.clear();
    idleBytes = 0;
  }

  private synchronized ByteBuffer take(int bytes) {
    ArrayDeque<ByteBuffer> q = idle.get(bytes);
    ByteBuffer b = q == null ? null : q.poll();
    if (b != null) {
      idleBytes -= bytes;
    }
    return b;
  }

  private synchronized void give(ByteBuffer b) {
    if (!closed && idleBytes + b.capacity() <= MAX_IDLE_BYTES) {
      idle.computeIfAbsent(b.capacity(), k -> new ArrayDeque<>()).push(b);
      idleBytes += b.capacity();
    }
  }
}
