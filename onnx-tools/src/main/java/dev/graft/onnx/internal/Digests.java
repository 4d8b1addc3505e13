package dev.graft.onnx.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Small SHA-256 helpers with a fixed, documented byte encoding (little endian, UTF-8 strings). */
public final class Digests {
  private Digests() {}

  public static byte[] sha256Bytes(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  public static String sha256Hex(byte[] bytes) {
    Sha256 s = new Sha256();
    s.update(bytes);
    return s.hex();
  }

  /** An incremental SHA-256 whose typed updates have a stable encoding. Not thread safe. */
  public static final class Sha256 {
    private final MessageDigest md;
    private final ByteBuffer scratch =
        ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);

    public Sha256() {
      try {
        md = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java platform has SHA-256", e);
      }
    }

    public Sha256 update(byte[] bytes) {
      md.update(bytes);
      return this;
    }

    /** A string as its UTF-8 length then bytes, so that concatenations cannot collide. */
    public Sha256 update(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      update((long) b.length);
      md.update(b);
      return this;
    }

    public Sha256 update(long v) {
      scratch.clear();
      scratch.putLong(v);
      md.update(scratch.array(), 0, 8);
      return this;
    }

    public Sha256 update(float[] values) {
      int i = 0;
      while (i < values.length) {
        scratch.clear();
        int n = Math.min(values.length - i, scratch.capacity() / 4);
        scratch.asFloatBuffer().put(values, i, n);
        md.update(scratch.array(), 0, n * 4);
        i += n;
      }
      return this;
    }

    public String hex() {
      return HexFormat.of().formatHex(md.digest());
    }
  }
}
