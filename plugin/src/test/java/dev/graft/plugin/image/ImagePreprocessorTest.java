package dev.graft.plugin.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelSettings.ImageGeometry;
import dev.graft.plugin.testing.Fixtures;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImagePreprocessorTest {
  private final ImagePreprocessor mnist = new ImagePreprocessor(new ImageGeometry(28, 28, 1));

  @Test
  void grayPngAtModelSizeGivesExactlyPixelOver255() throws Exception {
    byte[] pixels = Fixtures.testImageBytes(0);
    FloatTensor t = mnist.toTensor(png(gray(pixels, 28, 28)), "input");

    assertThat(t.dims()).containsExactly(1, 1, 28, 28);
    float[] expected = new float[784];
    for (int i = 0; i < 784; i++) {
      expected[i] = (pixels[i] & 0xff) / 255f;
    }
    assertThat(t.data()).containsExactly(expected);
  }

  @Test
  void colourIsConvertedToLuminance() throws Exception {
    BufferedImage rgb = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        rgb.setRGB(x, y, (200 << 16) | (100 << 8) | 50);
      }
    }
    FloatTensor t = mnist.toTensor(png(rgb), "input");
    float lum = (0.299f * 200 + 0.587f * 100 + 0.114f * 50) / 255f;
    assertThat(t.data()[0]).isCloseTo(lum, within(1e-6f));
    assertThat(t.data()[783]).isCloseTo(lum, within(1e-6f));
  }

  @Test
  void rgbModelsGetThreePlanes() throws Exception {
    BufferedImage rgb = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
    rgb.setRGB(0, 0, 0xff0000);
    FloatTensor t = new ImagePreprocessor(new ImageGeometry(2, 2, 3)).toTensor(png(rgb), "x");
    assertThat(t.dims()).containsExactly(1, 3, 2, 2);
    assertThat(t.data()[0]).isEqualTo(1f);
    assertThat(t.data()[4]).isEqualTo(0f);
    assertThat(t.data()[8]).isEqualTo(0f);
  }

  @Test
  void resizingIsBilinearWithAlignedCentres() {
    // 4x1 -> 2x1: each output centre falls midway between two inputs
    float[] halved = Bilinear.resize(new float[] {0, 100, 200, 255}, 4, 1, 2, 1);
    assertThat(halved).containsExactly(50f, 227.5f);
    // 2x1 -> 4x1: centres at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
    float[] doubled = Bilinear.resize(new float[] {0, 100}, 2, 1, 4, 1);
    assertThat(doubled).containsExactly(0f, 25f, 75f, 100f);
  }

  @Test
  void largerImagesAreResizedToTheModelSize() throws Exception {
    BufferedImage big = new BufferedImage(56, 56, BufferedImage.TYPE_BYTE_GRAY);
    FloatTensor t = mnist.toTensor(png(big), "input");
    assertThat(t.dims()).containsExactly(1, 1, 28, 28);
  }

  @Test
  void nonImagesAreRefused() {
    assertThatThrownBy(() -> mnist.toTensor("hello".getBytes(), "input"))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT));
  }

  @Test
  void topKIsSoftmaxSortedByProbability() {
    List<Classification> top = Classification.topK(new float[] {1f, 3f, 2f}, 2, i -> "c" + i);
    double z = Math.exp(1) + Math.exp(3) + Math.exp(2);
    assertThat(top).extracting(Classification::className).containsExactly("c1", "c2");
    assertThat(top.get(0).probability()).isCloseTo(Math.exp(3) / z, within(1e-12));
  }

  static BufferedImage gray(byte[] pixels, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, w, h, pixels);
    return img;
  }

  static byte[] png(BufferedImage img) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(img, "png", out)).isTrue();
    return out.toByteArray();
  }
}
