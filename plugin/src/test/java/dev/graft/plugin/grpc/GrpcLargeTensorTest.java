package dev.graft.plugin.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.plugin.grpc.proto.ModelInferResponse;
import dev.graft.plugin.testing.AbstractKServeTest;
import dev.graft.plugin.testing.Fixtures;
import io.grpc.netty.shaded.io.netty.buffer.PoolArenaMetric;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A request of an image's size (588 KiB, many HTTP/2 frames) through the plugin's server. */
class GrpcLargeTensorTest extends AbstractKServeTest {
  /** 192 MNIST images are 602,112 bytes of FP32: a 1x3x224x224 image's size. */
  private static final int IMAGES = 192;

  @Override
  protected Map<String, String> extraConfig() {
    return Map.of("max_request_size", Integer.toString(1 << 20));
  }

  @Test
  void aLargeRequestIsReadIntoTheServersPoolAndAnsweredExactly() {
    float[] images = tile(Fixtures.testImages("", IMAGES), IMAGES * 784);
    float[] expected = kserve.vggLogits(images, IMAGES);
    long before = allocations();
    ModelInferResponse r = kserve.grpc().modelInfer(KServeGrpcTest.rawVgg(images, IMAGES).build());
    assertThat(KServeGrpcTest.floats(r.getRawOutputContents(0)))
        .as("the logits of all %d images, as the runtime computes them", IMAGES)
        .containsExactly(expected);
    assertThat(allocations() - before)
        .as("the server read the request into its own pool (NetworkBuffers), not grpc-java's")
        .isPositive();
  }

  private static long allocations() {
    return NetworkBuffers.allocator().metric().directArenas().stream()
        .mapToLong(PoolArenaMetric::numAllocations)
        .sum();
  }

  /** {@code images} repeated up to {@code length} floats (the fixture may hold fewer images). */
  private static float[] tile(float[] images, int length) {
    float[] out = new float[length];
    for (int i = 0; i < length; i += images.length) {
      System.arraycopy(images, 0, out, i, Math.min(images.length, length - i));
    }
    return out;
  }
}
