package dev.graft.it;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads gzipped IDX files (the MNIST format): a big-endian header of magic {@code 0x000008NN} (type
 * 0x08 = unsigned byte, NN = number of dimensions), one int per dimension, then the bytes.
 */
public final class Idx {
  private static final int UNSIGNED_BYTE = 0x08;

  private Idx() {}

  /** Images of {@code rows x cols} unsigned bytes, row-major, one after the other. */
  public record Images(int count, int rows, int cols, byte[] pixels) {
    public int pixelsPerImage() {
      return rows * cols;
    }

    /** Pixel {@code i} of image {@code image}, 0 to 255. */
    public int pixel(int image, int i) {
      return pixels[image * pixelsPerImage() + i] & 0xff;
    }

    /**
     * Images {@code [from, from + n)} as model input: float {@code [n,1,rows,cols]} = pixel/255.
     */
    public Batch batch(int from, int n) {
      if (from < 0 || n < 1 || from + n > count) {
        throw new IndexOutOfBoundsException("images " + from + ".." + (from + n) + " of " + count);
      }
      int size = pixelsPerImage();
      float[] data = new float[n * size];
      for (int i = 0; i < data.length; i++) {
        data[i] = (pixels[from * size + i] & 0xff) / 255f;
      }
      return new Batch(data, new long[] {n, 1, rows, cols});
    }
  }

  public static Images readImages(Path gz) {
    try (DataInputStream in = open(gz)) {
      int[] dims = header(in, 3, gz);
      byte[] pixels = new byte[Math.multiplyExact(dims[0], Math.multiplyExact(dims[1], dims[2]))];
      in.readFully(pixels);
      requireEnd(in, gz);
      return new Images(dims[0], dims[1], dims[2], pixels);
    } catch (IOException e) {
      throw new UncheckedIOException(gz + ": " + e.getMessage(), e);
    }
  }

  public static int[] readLabels(Path gz) {
    try (DataInputStream in = open(gz)) {
      int[] dims = header(in, 1, gz);
      byte[] bytes = new byte[dims[0]];
      in.readFully(bytes);
      requireEnd(in, gz);
      int[] labels = new int[bytes.length];
      for (int i = 0; i < bytes.length; i++) {
        labels[i] = bytes[i] & 0xff;
      }
      return labels;
    } catch (IOException e) {
      throw new UncheckedIOException(gz + ": " + e.getMessage(), e);
    }
  }

  private static DataInputStream open(Path gz) throws IOException {
    InputStream raw = Files.newInputStream(gz);
    return new DataInputStream(new GZIPInputStream(raw, 1 << 16));
  }

  private static int[] header(DataInputStream in, int expectedDims, Path file) throws IOException {
    int magic = in.readInt();
    int type = (magic >>> 8) & 0xff;
    int dimCount = magic & 0xff;
    if ((magic >>> 16) != 0 || type != UNSIGNED_BYTE || dimCount != expectedDims) {
      throw new IOException(
          String.format(
              "not an unsigned-byte IDX file with %d dimensions (magic 0x%08x)",
              expectedDims, magic));
    }
    int[] dims = new int[dimCount];
    for (int i = 0; i < dimCount; i++) {
      dims[i] = in.readInt();
      if (dims[i] < 0) {
        throw new IOException("negative dimension " + dims[i] + " in " + file);
      }
    }
    return dims;
  }

  private static void requireEnd(InputStream in, Path file) throws IOException {
    if (in.read() != -1) {
      throw new IOException("trailing bytes after the data in " + file);
    }
  }
}
