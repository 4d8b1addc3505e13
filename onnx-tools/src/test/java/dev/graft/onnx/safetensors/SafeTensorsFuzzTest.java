package dev.graft.onnx.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.onnx.GraftException;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile safetensors bytes: parsing and decoding every tensor may only refuse with a {@link
 * GraftException}. A header claiming more data than the file holds must be refused before anything
 * of that size is allocated.
 *
 * <p>Regression inputs: {@code
 * src/test/resources/dev/graft/onnx/safetensors/SafeTensorsFuzzTestInputs}. Fuzz for real: {@code
 * JAZZER_FUZZ=1 mvn -pl onnx-tools test -Dtest=SafeTensorsFuzzTest}.
 */
class SafeTensorsFuzzTest {
  /**
   * A hang is a finding: each input gets this long (JUnit's timeout in regression mode, libFuzzer's
   * {@code -timeout} when fuzzing; inputs take milliseconds).
   */
  private static final int PER_INPUT_SECONDS = 10;

  @Timeout(PER_INPUT_SECONDS)
  @FuzzTest(maxDuration = "2m")
  void parseAndDecode(byte[] bytes) {
    try {
      SafeTensors s = SafeTensors.parse(bytes, "fuzz");
      for (SafeTensors.Entry e : s.entries().values()) {
        s.floatTensor(e.name());
        if (e.dtype().startsWith("I") || e.dtype().equals("U8") || e.dtype().equals("BOOL")) {
          s.intTensor(e.name());
        }
      }
    } catch (GraftException expected) {
      // a refusal is the right answer
    }
  }
}
