package dev.graft.onnx.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.TensorShapeProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSplitterTest {
  private static final OnnxModel VGG = OnnxModel.load(Fixtures.vgg("clean"));

  @Test
  void vggCutAfterConvs3IsTheOutputOfItsRelu() {
    assertThat(CutFinder.afterLayer(VGG, "convs.3").tensors())
        .as("the Relu is the layer's epilogue: cutting after it keeps Conv+Relu fusable")
        .containsExactly("/Relu_3_output_0");
  }

  @Test
  void vggStemHoldsExactlyTheFirstFourLayersAndTheBodyTheRest() {
    ModelSplit split = ModelSplitter.split(VGG, CutFinder.afterLayer(VGG, "convs.3"));

    assertThat(initializers(split.stem()))
        .as("stem initializers")
        .containsExactly(
            "convs.0.weight",
            "convs.0.bias",
            "convs.1.weight",
            "convs.1.bias",
            "convs.2.weight",
            "convs.2.bias",
            "convs.3.weight",
            "convs.3.bias");
    assertThat(initializers(split.body()))
        .as("body initializers")
        .hasSize(10)
        .contains("convs.4.weight", "fc.weight", "fc.bias")
        .doesNotContainAnyElementsOf(initializers(split.stem()));
    assertThat(split.stemOnly("convs.3.weight")).isTrue();
    assertThat(split.stemOnly("convs.4.weight")).isFalse();
    assertThat(split.passThrough()).as("the body does not read the image").isEmpty();
    assertThat(split.duplicatedNodes()).isZero();
  }

  @Test
  void cutTypesMissingFromTheModelAreInferredWithTheirSymbolicBatch() {
    assertThat(VGG.proto().getGraph().getValueInfoList())
        .as("precondition: the fixture declares no intermediate types")
        .isEmpty();
    ModelSplit split = ModelSplitter.split(VGG, CutFinder.afterLayer(VGG, "convs.3"));

    ValueInfoProto in = split.body().proto().getGraph().getInput(0);
    ValueInfoProto out = split.stem().proto().getGraph().getOutput(0);
    assertThat(in).as("body input = stem output, same declared type").isEqualTo(out);
    assertThat(in.getName()).isEqualTo("/Relu_3_output_0");
    assertThat(in.getType().getTensorType().getElemType())
        .isEqualTo(TensorProto.DataType.FLOAT_VALUE);
    assertThat(in.getType().getTensorType().getShape().getDimList())
        .extracting(d -> d.hasDimValue() ? Long.toString(d.getDimValue()) : d.getDimParam())
        .as("[batch, 32, 14, 14]: convs.2 has stride 2")
        .containsExactly("batch", "32", "14", "14");
  }

  @Test
  void vitCutAfterTheFirstBlocksFc1IsTheResidualStreamAfterThatBlock() {
    OnnxModel vit = OnnxModel.load(Fixtures.root().resolve("ofq/ofq-vit-fp32.onnx"));
    GraphCut cut = CutFinder.afterLayer(vit, "/blocks.0/fc1/MatMul");
    ModelSplit split = ModelSplitter.split(vit, cut);

    String nextBlockInput =
        vit.proto().getGraph().getNodeList().stream()
            .filter(n -> n.getName().equals("/blocks.1/n1/LayerNormalization"))
            .findFirst()
            .orElseThrow()
            .getInput(0);
    assertThat(cut.tensors())
        .as("inside block 0 both the MLP branch and the residual cross; after it, one tensor")
        .containsExactly(nextBlockInput);
    assertThat(split.stemTensors()).contains("onnx::MatMul_665", "blocks.0.fc1.bias");
    assertThat(split.bodyTensors()).doesNotContain("onnx::MatMul_665", "onnx::MatMul_659");
  }

  @Test
  void initializerReadOnBothSidesIsCopiedIntoBoth() {
    // y = Relu(x * s); out = y * s: the scale s is read before and after the cut
    OnnxModel m =
        new TinyGraph()
            .input(TinyGraph.floats("x", 2))
            .output(TinyGraph.floats("out", 2))
            .initializer("s", new long[] {2}, 2f, 3f)
            .node("Mul", List.of("x", "s"), "xs")
            .node("Relu", List.of("xs"), "y")
            .node("Mul", List.of("y", "s"), "out")
            .build();
    ModelSplit split = ModelSplitter.split(m, new GraphCut(List.of("y")));

    assertThat(initializers(split.stem())).containsExactly("s");
    assertThat(initializers(split.body())).containsExactly("s");
    assertThat(split.stemOnly("s")).as("replacing s needs both parts").isFalse();
  }

  @Test
  void constantNodeReadOnBothSidesIsCopiedIntoBoth() {
    OnnxModel m =
        new TinyGraph()
            .input(TinyGraph.floats("x", 2))
            .output(TinyGraph.floats("out", 2))
            .constant("c", new long[] {2}, 1f, -1f)
            .node("Add", List.of("x", "c"), "xc")
            .node("Relu", List.of("xc"), "y")
            .node("Sub", List.of("y", "c"), "out")
            .build();
    ModelSplit split = ModelSplitter.split(m, new GraphCut(List.of("y")));

    assertThat(opTypes(split.stem())).containsExactly("Constant", "Add", "Relu");
    assertThat(opTypes(split.body())).containsExactly("Constant", "Sub");
    assertThat(split.duplicatedNodes()).as("a Constant is not counted as duplicated work").isZero();
  }

  @Test
  void graphInputTheBodyReadsIsPassedThrough() throws Exception {
    // a residual connection from the input over the cut: out = Relu(x * w) + x
    OnnxModel m =
        new TinyGraph()
            .input(TinyGraph.floats("x", 3))
            .output(TinyGraph.floats("out", 3))
            .initializer("w", new long[] {3}, 0.5f, -2f, 4f)
            .node("Mul", List.of("x", "w"), "xw")
            .node("Relu", List.of("xw"), "y")
            .node("Add", List.of("y", "x"), "out")
            .build();
    GraphCut cut = CutFinder.afterTensors(m, List.of("w"));
    ModelSplit split = ModelSplitter.split(m, cut);

    assertThat(cut.tensors()).as("the input is never part of a cut").containsExactly("y");
    assertThat(split.passThrough()).containsExactly("x");
    assertThat(split.body().proto().getGraph().getInputList())
        .extracting(ValueInfoProto::getName)
        .containsExactly("y", "x");
    try (SplitRun run = new SplitRun(m, split)) {
      SplitRun.Outputs out = run.run("x", new float[] {1, 2, 3, -1, 1, 0}, new long[] {2, 3});
      assertThat(out.split().get("out"))
          .as("Relu(x*w)+x for x=[1,2,3],[-1,1,0]")
          .containsExactly(1.5f, 2f, 15f, -1f, 1f, 0f);
      assertThat(out.maxAbsDiff()).isZero();
    }
  }

  @Test
  void declaredValueInfoIsCarriedToBothParts() {
    ValueInfoProto declared = TinyGraph.floats("y", 2);
    GraphProto g =
        new TinyGraph()
                .input(TinyGraph.floats("x", 2))
                .output(TinyGraph.floats("out", 2))
                .node("Relu", List.of("x"), "y")
                .node("Neg", List.of("y"), "out")
                .build()
                .proto()
                .getGraph()
                .toBuilder()
                .addValueInfo(declared)
                .build();
    OnnxModel m =
        OnnxModel.of(
            new TinyGraph().build().proto().toBuilder().setGraph(g).build(), null, "declared");
    ModelSplit split = ModelSplitter.split(m, new GraphCut(List.of("y")));

    assertThat(split.body().proto().getGraph().getInput(0)).isEqualTo(declared);
    TensorShapeProto.Dimension batch =
        split.stem().proto().getGraph().getOutput(0).getType().getTensorType().getShape().getDim(0);
    assertThat(batch.getDimParam()).as("the declared symbolic batch").isEqualTo("N");
  }

  @Test
  void cutThatDoesNotSeparateAWeightLayerIsRefused() {
    // two branches from x, both through weight layers; cutting one branch leaves the other
    OnnxModel m =
        new TinyGraph()
            .input(TinyGraph.floats("x", 2))
            .output(TinyGraph.floats("out", 2))
            .initializer("a", new long[] {2, 2}, 1, 0, 0, 1)
            .initializer("b", new long[] {2, 2}, 0, 1, 1, 0)
            .node("MatMul", List.of("x", "a"), "p")
            .node("MatMul", List.of("x", "b"), "q")
            .node("Relu", List.of("p"), "pr")
            .node("Add", List.of("pr", "q"), "mid")
            .node("Mul", List.of("mid", "q"), "out")
            .build();

    assertThatThrownBy(() -> ModelSplitter.split(m, new GraphCut(List.of("mid"))))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
        .hasMessageContaining("does not separate")
        .hasMessageContaining("weight b");
  }

  @Test
  void cutsThatCannotWorkAreRefusedWithTheReason() {
    assertThatThrownBy(() -> ModelSplitter.split(VGG, new GraphCut(List.of("input"))))
        .hasMessageContaining("is a graph input");
    assertThatThrownBy(() -> ModelSplitter.split(VGG, new GraphCut(List.of("convs.4.weight"))))
        .hasMessageContaining("is constant");
    assertThatThrownBy(() -> ModelSplitter.split(VGG, new GraphCut(List.of("logits"))))
        .hasMessageContaining("is a graph output");
    assertThatThrownBy(() -> ModelSplitter.split(VGG, new GraphCut(List.of("/Relu_9_output_0"))))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.NOT_FOUND));
    assertThatThrownBy(() -> CutFinder.afterLayer(VGG, "fc"))
        .as("nothing follows the classifier")
        .hasMessageContaining("no cut follows");
    assertThatThrownBy(() -> CutFinder.afterLayer(VGG, "convs.9"))
        .hasMessageContaining("no weight layer named convs.9");
  }

  private static List<String> initializers(OnnxModel m) {
    return m.proto().getGraph().getInitializerList().stream().map(TensorProto::getName).toList();
  }

  private static List<String> opTypes(OnnxModel m) {
    return m.proto().getGraph().getNodeList().stream().map(n -> n.getOpType()).toList();
  }
}
