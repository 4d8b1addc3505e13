package dev.graft.onnx;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Hostile ONNX bytes: {@link OnnxModel#parse(byte[], java.nio.file.Path, String)} and what the
 * server does next with a model (layers, weights digest, every tensor decoded) may only refuse with
 * a {@link GraftException}. A tensor whose shape claims more elements than its data holds must be
 * refused before the array is allocated.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/graft/onnx/OnnxModelFuzzTestInputs}. Fuzz for
 * real: {@code JAZZER_FUZZ=1 mvn -pl onnx-tools test -Dtest=OnnxModelFuzzTest}.
 */
class OnnxModelFuzzTest {

  @FuzzTest(maxDuration = "2m")
  void parseAndRead(byte[] bytes) {
    try {
      OnnxModel model = OnnxModel.parse(bytes, null, "fuzz");
      model.layers();
      for (String name : model.tensors().keySet()) {
        try {
          model.floatTensor(name);
        } catch (GraftException notFloat) {
          // integer tensors are refused one by one; keep reading the others
        }
      }
      model.weightsDigest();
    } catch (GraftException expected) {
      // a refusal is the right answer
    }
  }
}
