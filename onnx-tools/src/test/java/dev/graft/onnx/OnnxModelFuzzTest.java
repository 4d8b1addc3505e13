package dev.graft.onnx;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.onnx.rws.Fingerprint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile ONNX bytes: {@link OnnxModel#parse(byte[], java.nio.file.Path, String)} and what the
 * server does next with a model (layers, fingerprint, every tensor decoded, external data inlined)
 * may only refuse with a {@link GraftException}. A tensor whose shape claims more elements than its
 * data holds must be refused before the array is allocated.
 *
 * <p>The model folder holds one small external data file, {@value #DATA_FILE}, so tensors that name
 * it (the seeds do) reach the external-data reader: offsets, lengths and paths come from the input.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/graft/onnx/OnnxModelFuzzTestInputs}. Fuzz for
 * real: {@code JAZZER_FUZZ=1 mvn -pl onnx-tools test -Dtest=OnnxModelFuzzTest}.
 */
class OnnxModelFuzzTest {
  /**
   * A hang is a finding: each input gets this long (JUnit's timeout in regression mode, libFuzzer's
   * {@code -timeout} when fuzzing; inputs take milliseconds).
   */
  private static final int PER_INPUT_SECONDS = 10;

  /** The external data file of the fuzzed models; {@link FuzzSeeds} writes tensors naming it. */
  static final String DATA_FILE = "weights.data";

  /** 64 bytes: sixteen float32 values. */
  static final int DATA_BYTES = 64;

  private static final Path MODEL_DIR = modelDir();

  @Timeout(PER_INPUT_SECONDS)
  @FuzzTest(maxDuration = "2m")
  void parseAndRead(byte[] bytes) {
    try {
      OnnxModel model = OnnxModel.parse(bytes, MODEL_DIR, "fuzz");
      model.layers();
      for (String name : model.tensors().keySet()) {
        try {
          model.floatTensor(name);
        } catch (GraftException notFloat) {
          // integer tensors are refused one by one; keep reading the others
        }
      }
      Fingerprint.of(model);
      ExternalData.inline(model);
    } catch (GraftException expected) {
      // a refusal is the right answer
    }
  }

  private static Path modelDir() {
    try {
      Path dir = Files.createTempDirectory("graft-onnx-fuzz");
      Path data = dir.resolve(DATA_FILE);
      Files.write(data, new byte[DATA_BYTES]);
      data.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
