package dev.graft.plugin.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.onnx.GraftException;

/**
 * Hostile KServe v2 JSON bodies: {@link KServeCodec#read} may only refuse with a {@link
 * GraftException} (answered 400). Deep nesting, huge shapes and odd numbers must not escape as
 * other exceptions, overflow the stack or allocate by a shape's claim.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/graft/plugin/http/KServeCodecFuzzTestInputs}.
 * Fuzz for real: {@code JAZZER_FUZZ=1 mvn -pl plugin test -Dtest=KServeCodecFuzzTest}.
 */
class KServeCodecFuzzTest {

  @FuzzTest(maxDuration = "2m")
  void read(byte[] body) {
    try {
      KServeCodec.read(body);
    } catch (GraftException expected) {
      // a refusal is the right answer
    }
  }
}
