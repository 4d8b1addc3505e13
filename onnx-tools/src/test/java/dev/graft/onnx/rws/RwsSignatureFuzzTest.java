package dev.graft.onnx.rws;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.graft.onnx.FuzzSeeds;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.rws.proto.RwsFile;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile {@code .rws} bytes: {@link RwsSignature#parse} may only refuse them with a {@link
 * GraftException}; any other exception, a hang or an unbounded allocation is a finding.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/graft/onnx/rws/RwsSignatureFuzzTestInputs}.
 * Fuzz for real: {@code JAZZER_FUZZ=1 mvn -pl onnx-tools test
 * -Dtest=RwsSignatureFuzzTest#<method>}.
 */
class RwsSignatureFuzzTest {
  /**
   * A hang is a finding: each input gets this long (JUnit's timeout in regression mode, libFuzzer's
   * {@code -timeout} when fuzzing; inputs take milliseconds).
   */
  private static final int PER_INPUT_SECONDS = 10;

  /** Raw bytes: the protobuf reader, the marker and the content hash check. */
  @Timeout(PER_INPUT_SECONDS)
  @FuzzTest(maxDuration = "2m")
  void parse(byte[] bytes) {
    try {
      RwsSignature.parse(bytes, "fuzz");
    } catch (GraftException expected) {
      // a refusal is the right answer
    }
  }

  /**
   * Bytes that parse as a message get a correct marker, version and content hash, so the fuzzer
   * reaches the decoder behind the hash check (shapes, quantisation, packed codes).
   */
  @Timeout(PER_INPUT_SECONDS)
  @FuzzTest(maxDuration = "2m")
  void decodeSealed(byte[] bytes) {
    RwsFile file;
    try {
      file = RwsFile.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    byte[] sealed = FuzzSeeds.sealed(file);
    try {
      RwsSignature.parse(sealed, "fuzz");
    } catch (GraftException expected) {
      // a refusal is the right answer
    }
  }
}
