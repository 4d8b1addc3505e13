package dev.graft.plugin.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.runtime.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * KServe v2 requests whose shapes claim more elements than their data holds: refused with a {@link
 * GraftException} (answered 400) naming the input, before anything of the claimed size is
 * allocated. Allocation is measured with HotSpot's per-thread allocation counter.
 */
class KServeCodecHostileTest {
  /** Far more than decoding a small request needs, far less than any claimed tensor. */
  private static final long SMALL = 1 << 20;

  @Test
  void jsonShapeClaiming2pow40ElementsIsRefusedBeforeAllocation() {
    byte[] body =
        utf8(
            "{\"inputs\":[{\"name\":\"input\",\"shape\":[1048576,1048576],"
                + "\"datatype\":\"FP32\",\"data\":[1]}]}");

    long allocated = allocatedBy(() -> KServeCodec.read("m", "", body, -1), "1099511627776");

    assertThat(allocated).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void jsonShapeClaimingMoreThanItsDataIsRefusedBeforeAllocation() {
    // 2^24 floats would fit the heap; the data holds one
    byte[] body =
        utf8(
            "{\"inputs\":[{\"name\":\"input\",\"shape\":[16777216],"
                + "\"datatype\":\"FP32\",\"data\":[1]}]}");

    long allocated =
        allocatedBy(
            () -> KServeCodec.read("m", "", body, -1),
            "input input: shape [16777216] holds 16777216 elements but data has 1");

    assertThat(allocated).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void binaryShapeClaiming2pow40ElementsIsRefusedBeforeAllocation() {
    String json =
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1048576,1048576],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":4}}]}";
    byte[] head = utf8(json);
    byte[] body = Arrays.copyOf(head, head.length + 4);

    long allocated =
        allocatedBy(
            () -> KServeCodec.read("m", "", body, head.length),
            "shape [1048576, 1048576] of FP32 needs 4398046511104 bytes, got 4");

    assertThat(allocated).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void shapeWhoseProductOverflowsLongIsRefused() {
    byte[] body =
        utf8(
            "{\"inputs\":[{\"name\":\"input\",\"shape\":[4294967296,4294967296,2],"
                + "\"datatype\":\"FP32\",\"data\":[1]}]}");

    assertThatThrownBy(() -> KServeCodec.read("m", "", body, -1))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("shape [4294967296, 4294967296, 2] has more than 2^63 elements");
  }

  @Test
  void dataBeforeDatatypeNestedPastTheLimitIsRefused() {
    // found by fuzzing: data read before its datatype escaped as Gson's JsonSyntaxException
    byte[] body = utf8("{\"inputs\":[{\"name\":\"i\",\"shape\":[1],\"data\":" + "[".repeat(300));

    assertThatThrownBy(() -> KServeCodec.read("m", "", body, -1))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("malformed KServe v2 request")
        .hasMessageContaining("Nesting limit");
  }

  @Test
  void dataBeforeDatatypeIsDecoded() {
    byte[] body =
        utf8(
            "{\"inputs\":[{\"name\":\"i\",\"data\":[[1.5,2]],\"shape\":[1,2],\"datatype\":\"FP32\"}]}");

    Tensor t = KServeCodec.read("m", "", body, -1).inputs().get(0);

    assertThat(t.shape()).containsExactly(1, 2);
    assertThat(t.toFloatTensor().data()).containsExactly(1.5f, 2f);
  }

  /**
   * Runs {@code read}, asserts it is refused with a message containing {@code message}, and returns
   * the heap bytes this thread allocated meanwhile.
   */
  private static long allocatedBy(Runnable read, String message) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(id);
    Throwable thrown = null;
    try {
      read.run();
    } catch (Throwable t) { // asserted below, OutOfMemoryError included
      thrown = t;
    }
    long allocated = threads.getThreadAllocatedBytes(id) - before;
    assertThat(thrown).isInstanceOf(GraftException.class).hasMessageContaining(message);
    return allocated;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
