package dev.graft.plugin.patch;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.rws.RwsSignature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where an adapter's {@code .rws} bytes came from, with their size and digest.
 *
 * @param src the {@code src} the client gave, or {@code "<request body>"}
 * @param bytes the size of the file
 * @param sha256 the SHA-256 (hex) of the file
 */
public record SignatureSource(String src, long bytes, String sha256) {
  /** The {@code src} reported for signatures uploaded in the request body. */
  public static final String BODY = "<request body>";

  /** A signature with its source. */
  public record Loaded(RwsSignature signature, SignatureSource source) {}

  /**
   * Reads and validates a signature file (already confined to the model store by the caller).
   *
   * @throws GraftException {@code NOT_FOUND} when missing, {@code TOO_LARGE} above {@code
   *     maxBytes}, {@code INVALID_ARGUMENT} when not a valid signature
   */
  public static Loaded readFile(Path file, String src, long maxBytes) {
    if (Files.isDirectory(file)) {
      throw GraftException.invalid("src %s is a folder, not a .rws file", src);
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes((int) Math.min(maxBytes + 1, Integer.MAX_VALUE - 8));
    } catch (NoSuchFileException e) {
      throw GraftException.notFound("src %s: no such file", src);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, "src " + src + ": cannot read (" + e + ")", e);
    }
    if (bytes.length > maxBytes) {
      throw new GraftException(
          GraftException.Code.TOO_LARGE,
          "src " + src + " is larger than max_request_size (" + maxBytes + " bytes)");
    }
    return parse(bytes, src);
  }

  /** Validates signature bytes sent in a request body. */
  public static Loaded fromBody(byte[] body) {
    if (body.length == 0) {
      throw GraftException.invalid("give src=<path in the model store> or the .rws file as body");
    }
    return parse(body, BODY);
  }

  private static Loaded parse(byte[] bytes, String src) {
    RwsSignature signature = RwsSignature.parse(bytes, src);
    return new Loaded(signature, new SignatureSource(src, bytes.length, sha256(bytes)));
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
