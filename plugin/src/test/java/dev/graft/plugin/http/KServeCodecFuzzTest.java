package dev.graft.plugin.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.onnx.GraftException;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile KServe v2 JSON (and binary-extension) bodies: {@link KServeCodec#read} may only refuse
 * with a {@link GraftException} (answered 400). Deep nesting, huge shapes and odd numbers must not
 * escape as other exceptions, overflow the stack or allocate by a shape's claim.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/graft/plugin/http/KServeCodecFuzzTestInputs}.
 * Fuzz for real: {@code JAZZER_FUZZ=1 mvn -pl plugin test -Dtest=KServeCodecFuzzTest}.
 */
class KServeCodecFuzzTest {
  /**
   * A hang is a finding: each input gets this long (JUnit's timeout in regression mode, libFuzzer's
   * {@code -timeout} when fuzzing; inputs take milliseconds).
   */
  private static final int PER_INPUT_SECONDS = 10;

  @Timeout(PER_INPUT_SECONDS)
  @FuzzTest(maxDuration = "2m")
  void read(byte[] body) {
    try {
      KServeCodec.read("m", "", body, -1);
    } catch (GraftException expected) {
      // a refusal is the right answer
    }
    try { // the same bytes as a binary-extension body: JSON head, then tensor data
      KServeCodec.read("m", "", body, body.length / 2);
    } catch (GraftException expected) {
      // a refusal is the right answer
    }
  }
}
