package dev.graft.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.rws.Fingerprint;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.onnx.rws.RwsSignature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Signatures are keyed by tensor name: they move between an ONNX export and its TorchScript twin.
 */
class TorchScriptSignatureTest {
  @TempDir Path tmp;

  private static RwsSignature extract(String ext, int keep, boolean perChannel) {
    return RwsExtractor.extract(
            ModelWeights.load(file("clean", ext)),
            ModelWeights.load(file("robust-gaussian_noise", ext)),
            ModelWeights.load(file("pretrained", ext)),
            new RwsExtractor.Options(
                "gaussian_noise", "gaussian_noise", keep, List.of(), 256, perChannel, 0.3))
        .signature();
  }

  private static Path file(String variant, String ext) {
    return Fixtures.rws("mnist-vgg-" + variant + "." + ext);
  }

  @ParameterizedTest
  @CsvSource({"4, false", "9, true"})
  void extractingFromPtModelsGivesTheSignatureOfTheOnnxExports(int keep, boolean perChannel) {
    RwsSignature fromPt = extract("pt", keep, perChannel);
    RwsSignature fromOnnx = extract("onnx", keep, perChannel);

    assertThat(fromPt.proto().getLayersList())
        .as("quantised deltas, ranges and tensor names (keep %d, per channel %s)", keep, perChannel)
        .isEqualTo(fromOnnx.proto().getLayersList());
    assertThat(fromPt.fingerprint()).isEqualTo(fromOnnx.fingerprint());
    assertThat(fromPt.deltas()).extracting(FloatTensor::name).startsWith("convs.0.weight");
  }

  @Test
  void onnxSignatureAppliesToTheTorchScriptTwinWithoutTransfer() {
    RwsSignature sig = extract("onnx", 4, false);
    Fingerprint twin = Fingerprint.of(TorchScriptModel.load(file("clean", "pt")));

    assertThatCode(() -> sig.requireApplicableTo(twin, "mnist-vgg-clean.pt", false))
        .as("same names, shapes and weights: the ONNX-extracted digest matches the .pt")
        .doesNotThrowAnyException();
  }

  @Test
  void onnxSignatureOnAnUpdatedTwinNeedsTransfer() {
    RwsSignature sig = extract("onnx", 4, false);
    Fingerprint updated = Fingerprint.of(TorchScriptModel.load(file("clean-v2", "pt")));

    assertThatThrownBy(() -> sig.requireApplicableTo(updated, "mnist-vgg-clean-v2.pt", false))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining("other base weights");
    assertThatCode(() -> sig.requireApplicableTo(updated, "mnist-vgg-clean-v2.pt", true))
        .as("same architecture: allowed as a transfer")
        .doesNotThrowAnyException();
  }

  @Test
  void renamedTensorIsRefusedNamingTheFirstMismatch() throws IOException {
    TorchScriptModel clean = TorchScriptModel.load(file("clean", "pt"));
    StateDictWriter renamed = new StateDictWriter();
    for (TorchScriptModel.TensorInfo t : clean.tensors()) {
      String name = t.name().replace("convs.1.", "convs.one.");
      renamed.floats(name, t.dims(), clean.floatTensor(t.name()).data());
    }
    Fingerprint other = Fingerprint.of(TorchScriptModel.load(renamed.write(tmp.resolve("r.pt"))));
    RwsSignature sig = extract("onnx", 4, false);

    assertThatThrownBy(() -> sig.requireApplicableTo(other, "r.pt", true))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining(
            "tensor #2 is convs.1.weight[16, 16, 3, 3] in one and"
                + " convs.one.weight[16, 16, 3, 3] in the other");
  }
}
