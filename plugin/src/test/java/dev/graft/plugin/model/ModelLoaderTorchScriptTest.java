package dev.graft.plugin.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.Fingerprint;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.plugin.patch.SignatureSource;
import dev.graft.plugin.runtime.TensorSpec;
import dev.graft.plugin.runtime.TestEngines;
import dev.graft.plugin.runtime.pytorch.PtModelRuntime;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TorchFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLoaderTorchScriptTest {
  @TempDir Path store;

  private final ModelLoader loader = new ModelLoader(TorchFixtures.engine());

  @Test
  void folderWithEnginePyTorchServesItsPtFile() throws Exception {
    Path folder = TorchFixtures.modelFolder(store, "vgg-pt", "clean");

    try (ServedModel m = loader.load("vgg-pt", folder, "vgg-pt")) {
      assertThat(m.runtime()).isInstanceOf(PtModelRuntime.class);
      assertThat(m.settings().isPyTorch()).isTrue();
      assertThat(m.label(3)).as("synset.txt").isEqualTo("3");
      assertThat(m.adapters().fingerprint())
          .as("the .pt's fingerprint is the ONNX twin's, digest included")
          .isEqualTo(Fingerprint.of(OnnxModel.load(Fixtures.vgg("clean"))));
      assertThat(m.adapters().base().layers()).hasSize(9);
    }
  }

  @Test
  void barePtFileLoadsWithDefaultNames() {
    try (ServedModel m = loader.load("bare", TorchFixtures.pt("clean"), "mnist-vgg-clean.pt")) {
      assertThat(m.runtime().inputs())
          .as("no serving.properties: input 'input' of any shape")
          .containsExactly(new TensorSpec("input", "FP32", new long[] {-1}));
      assertThat(m.runtime().outputs()).extracting(TensorSpec::name).containsExactly("output");
    }
    assertThat(ModelLoader.defaultName(Path.of("mnist-vgg-clean.pt"))).isEqualTo("mnist-vgg-clean");
  }

  @Test
  void onnxExtractedSignatureAttachesToTheTwinWithoutTransfer() throws Exception {
    Path folder = TorchFixtures.modelFolder(store, "vgg-pt", "clean");
    RwsSignature noise = Fixtures.signature("gaussian_noise");

    try (ServedModel m = loader.load("vgg-pt", folder, "vgg-pt")) {
      m.adapters().register("noise", loaded(noise), 1.0, true, false);

      assertThat(m.runtime().weightsLabel()).isEqualTo("noise@1.0");
    }
  }

  @Test
  void signatureOfAnotherArchitectureIsRefusedNamingTheFirstMismatch() throws Exception {
    Path folder = TorchFixtures.modelFolder(store, "vgg-pt", "clean");
    OnnxModel wa = OnnxModel.load(Fixtures.repoRoot().resolve("fixtures/wa/wa-backbone.onnx"));
    RwsSignature other =
        RwsExtractor.extract(
                wa, wa, null, new RwsExtractor.Options("wa", "none", 1, List.of(), 16, false, 0.3))
            .signature();

    try (ServedModel m = loader.load("vgg-pt", folder, "vgg-pt")) {
      assertThatThrownBy(() -> m.adapters().register("wa", loaded(other), 1.0, true, true))
          .isInstanceOfSatisfying(
              GraftException.class,
              e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
          .hasMessageContaining("different architectures (tensor #0 is");
      assertThat(m.runtime().weightsLabel()).as("nothing attached").isEqualTo("base");
    }
  }

  @Test
  void withoutThePyTorchEngineAPtModelIsRefusedBeforeItsFileIsRead() throws Exception {
    Path folder = Files.createDirectories(store.resolve("broken-pt"));
    Files.writeString(folder.resolve("serving.properties"), "engine=PyTorch\n");
    Files.writeString(folder.resolve("model.pt"), "not a zip");
    ModelLoader onnxOnly = new ModelLoader(TestEngines.pyTorchMissing(store));

    assertThatThrownBy(() -> onnxOnly.load("broken-pt", folder, "broken-pt"))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining("the PyTorch engine is not installed");
  }

  @Test
  void folderWithoutPtFileIsAFailedPrecondition() throws Exception {
    Path folder = Files.createDirectories(store.resolve("empty-pt"));
    Files.writeString(folder.resolve("serving.properties"), "engine=PyTorch\n");

    assertThatThrownBy(() -> loader.load("empty-pt", folder, "empty-pt"))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining("has no .pt file");
  }

  private static SignatureSource.Loaded loaded(RwsSignature s) {
    return SignatureSource.fromBody(s.toByteArray());
  }
}
