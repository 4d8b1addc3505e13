package dev.graft.onnx.eval;

import dev.graft.onnx.GraftException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (the MNIST format: big-endian magic {@code 0x0000 08 NDIM}, NDIM big-endian int32
 * sizes, then unsigned bytes), plain or gzipped.
 */
public final class Idx {
  /** Refuse headers that claim more than this many bytes of data (far above MNIST). */
  private static final long MAX_BYTES = 1L << 30;

  private Idx() {}

  /** Images as float32 {@code [N,1,H,W]} pixel/255, flattened row-major. */
  public record Images(int count, int height, int width, float[] pixels) {
    /** The pixels of images {@code [from, from+n)}. */
    public float[] batch(int from, int n) {
      int size = height * width;
      float[] out = new float[n * size];
      System.arraycopy(pixels, from * size, out, 0, n * size);
      return out;
    }
  }

  public static Images readImages(Path file) {
    Raw raw = read(file);
    if (raw.dims.length != 3) {
      throw GraftException.invalid(
          "%s: an image file has 3 dimensions, this has %d", file, raw.dims.length);
    }
    float[] px = new float[raw.data.length];
    for (int i = 0; i < px.length; i++) {
      px[i] = (raw.data[i] & 0xff) / 255f;
    }
    return new Images(raw.dims[0], raw.dims[1], raw.dims[2], px);
  }

  public static int[] readLabels(Path file) {
    Raw raw = read(file);
    if (raw.dims.length != 1) {
      throw GraftException.invalid(
          "%s: a label file has 1 dimension, this has %d", file, raw.dims.length);
    }
    int[] labels = new int[raw.data.length];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = raw.data[i] & 0xff;
    }
    return labels;
  }

  private record Raw(int[] dims, byte[] data) {}

  private static Raw read(Path file) {
    try (InputStream in = open(file)) {
      DataInputStream data = new DataInputStream(in);
      int magic = data.readInt();
      if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != 0x08) {
        throw GraftException.invalid(
            "%s: not an unsigned-byte IDX file (magic 0x%08x)", file, magic);
      }
      int ndim = magic & 0xff;
      if (ndim < 1 || ndim > 4) {
        throw GraftException.invalid("%s: IDX file with %d dimensions", file, ndim);
      }
      int[] dims = new int[ndim];
      long total = 1;
      for (int i = 0; i < ndim; i++) {
        dims[i] = data.readInt();
        if (dims[i] < 0) {
          throw GraftException.invalid("%s: negative dimension %d", file, dims[i]);
        }
        total *= dims[i];
        if (total > MAX_BYTES) {
          throw GraftException.invalid("%s: header claims more than %d bytes", file, MAX_BYTES);
        }
      }
      // read as the data arrives rather than allocating the header's claim up front
      byte[] bytes = data.readNBytes((int) total);
      if (bytes.length != total) {
        throw GraftException.invalid(
            "%s: truncated IDX file (header claims %d bytes, has %d)", file, total, bytes.length);
      }
      return new Raw(dims, bytes);
    } catch (NoSuchFileException e) {
      throw GraftException.notFound("%s: no such file", file);
    } catch (EOFException e) {
      throw GraftException.invalid("%s: truncated IDX file", file);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  private static InputStream open(Path file) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(in, 1 << 16) : in;
  }
}
