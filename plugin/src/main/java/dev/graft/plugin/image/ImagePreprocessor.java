package dev.graft.plugin.image;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelSettings.ImageGeometry;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns an encoded image (PNG, JPEG, anything {@code javax.imageio} reads) into a model input:
 * decode, convert to gray (luminance {@code 0.299 R + 0.587 G + 0.114 B}) or RGB, resize with
 * bilinear interpolation (pixel centres aligned, as OpenCV and PyTorch do without corner
 * alignment), scale to [0, 1] as {@code pixel / 255} in float32, NCHW with batch 1.
 *
 * <p>Gray images are read from their raster, not through {@code getRGB}, which would apply a
 * colour-space conversion and change the values. An image already at the target size is not
 * resampled, so an 8-bit image of that size gives exactly {@code pixel / 255}. Stateless.
 */
public final class ImagePreprocessor {
  /** Refuse to decode images with more pixels than this (decompression bombs). */
  static final long MAX_PIXELS = 1L << 26;

  private final ImageGeometry geometry;

  public ImagePreprocessor(ImageGeometry geometry) {
    this.geometry = geometry;
  }

  /**
   * Decodes and preprocesses one image.
   *
   * @param input the model input's name
   * @throws GraftException {@code INVALID_ARGUMENT} when the bytes are not a readable image
   */
  public FloatTensor toTensor(byte[] encoded, String input) {
    BufferedImage image = decode(encoded);
    int w = image.getWidth();
    int h = image.getHeight();
    float[][] planes = planes(image, geometry.channels());
    int dw = geometry.width();
    int dh = geometry.height();
    float[] data = new float[geometry.channels() * dw * dh];
    for (int c = 0; c < planes.length; c++) {
      float[] resized = (w == dw && h == dh) ? planes[c] : Bilinear.resize(planes[c], w, h, dw, dh);
      int offset = c * dw * dh;
      for (int i = 0; i < resized.length; i++) {
        data[offset + i] = resized[i] / 255f;
      }
    }
    return new FloatTensor(input, new long[] {1, geometry.channels(), dh, dw}, data);
  }

  static BufferedImage decode(byte[] encoded) {
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw GraftException.invalid("the body is not an image Graft can decode (PNG or JPEG)");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
        if (pixels > MAX_PIXELS) {
          throw GraftException.invalid("image of %d pixels is too large to decode", pixels);
        }
        return reader.read(0);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof GraftException g) {
        throw g;
      }
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, "cannot decode the image: " + e.getMessage(), e);
    }
  }

  /** The image as float planes of values in [0, 255], one per output channel. */
  static float[][] planes(BufferedImage image, int channels) {
    int w = image.getWidth();
    int h = image.getHeight();
    float[][] planes = new float[channels][w * h];
    ColorModel cm = image.getColorModel();
    Raster raster = image.getRaster();
    boolean gray =
        cm instanceof ComponentColorModel && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
    float grayScale = gray ? 255f / ((1 << cm.getComponentSize(0)) - 1) : 1f;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = y * w + x;
        if (gray) {
          float v = raster.getSample(x, y, 0) * grayScale;
          for (int c = 0; c < channels; c++) {
            planes[c][i] = v;
          }
          continue;
        }
        int rgb = image.getRGB(x, y);
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        if (channels == 1) {
          planes[0][i] = 0.299f * r + 0.587f * g + 0.114f * b;
        } else {
          planes[0][i] = r;
          planes[1][i] = g;
          planes[2][i] = b;
        }
      }
    }
    return planes;
  }
}
