package dev.graft.onnx.rws;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.internal.Digests;
import dev.graft.onnx.rws.proto.LayerDelta;
import dev.graft.onnx.rws.proto.Quantization;
import dev.graft.onnx.rws.proto.RwsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A robust weight signature read from (or about to be written to) a {@code .rws} file: validated,
 * with its deltas decoded to float32. Immutable and thread safe.
 */
public final class RwsSignature {
  public static final String MAGIC = "graft-rws";
  public static final int FORMAT_VERSION = 1;

  private final RwsFile file;
  private final Fingerprint fingerprint;
  private final List<FloatTensor> deltas;
  private final Map<String, String> layerOf;

  private RwsSignature(RwsFile file, String source) {
    this.file = file;
    this.fingerprint = RwsProtos.fingerprint(file.getFingerprint());
    List<FloatTensor> list = new ArrayList<>();
    Map<String, String> layers = new LinkedHashMap<>();
    for (LayerDelta d : file.getLayersList()) {
      FloatTensor t = decode(d, source);
      if (layers.put(t.name(), d.getLayer()) != null) {
        throw GraftException.invalid("%s: tensor %s appears twice", source, t.name());
      }
      list.add(t);
    }
    this.deltas = List.copyOf(list);
    this.layerOf = Map.copyOf(layers);
  }

  /** Reads and validates a {@code .rws} file. */
  public static RwsSignature read(Path path) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw GraftException.notFound("%s: no such file", path);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, path + ": cannot read (" + e.getMessage() + ")", e);
    }
    return parse(bytes, path.toString());
  }

  /**
   * Parses and validates signature bytes.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} naming {@code source} when the bytes are not a
   *     signature, are truncated or corrupt
   */
  public static RwsSignature parse(byte[] bytes, String source) {
    RwsFile file;
    try {
      file = RwsFile.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          source + ": not an RWS file or truncated (" + e.getMessage() + ")",
          e);
    }
    if (!MAGIC.equals(file.getMagic())) {
      throw GraftException.invalid("%s: not an RWS file (no '%s' marker)", source, MAGIC);
    }
    if (file.getFormatVersion() != FORMAT_VERSION) {
      throw GraftException.invalid(
          "%s: RWS format version %d is not supported (this Graft reads %d)",
          source, file.getFormatVersion(), FORMAT_VERSION);
    }
    if (file.getContentSha256().isEmpty()) {
      throw GraftException.invalid("%s: truncated RWS file (no content hash at its end)", source);
    }
    byte[] expected = contentHash(file);
    if (!MessageDigest.isEqual(expected, file.getContentSha256().toByteArray())) {
      throw GraftException.invalid("%s: corrupt RWS file (content hash does not match)", source);
    }
    if (file.getLayersCount() == 0) {
      throw GraftException.invalid("%s: RWS file holds no layers", source);
    }
    return new RwsSignature(file, source);
  }

  /** Wraps a freshly built message, computing its content hash. */
  static RwsSignature of(RwsFile unsealed) {
    RwsFile sealed =
        unsealed.toBuilder().setContentSha256(ByteString.copyFrom(contentHash(unsealed))).build();
    return new RwsSignature(sealed, "<new signature " + sealed.getName() + ">");
  }

  public byte[] toByteArray() {
    return file.toByteArray();
  }

  /** Writes the file atomically (temp file, fsync, rename). */
  public void write(Path path) {
    OnnxModel.writeAtomically(path, toByteArray());
  }

  public String name() {
    return file.getName();
  }

  public String corruption() {
    return file.getCorruption();
  }

  public Fingerprint fingerprint() {
    return fingerprint;
  }

  /** The dequantised deltas, one per patched tensor, in layer order. */
  public List<FloatTensor> deltas() {
    return deltas;
  }

  /** Names of the patched layers, in order, without duplicates. */
  public List<String> layers() {
    return file.getLayersList().stream().map(LayerDelta::getLayer).distinct().toList();
  }

  /** The layer a patched tensor belongs to. */
  public String layerOf(String tensor) {
    return layerOf.get(tensor);
  }

  /** The underlying message (quantisation parameters, provenance). */
  public RwsFile proto() {
    return file;
  }

  /** Size of the serialized file in bytes. */
  public int serializedSize() {
    return file.getSerializedSize();
  }

  /** SHA-256 (hex) of the serialized file. */
  public String sha256() {
    return Digests.sha256Hex(toByteArray());
  }

  /**
   * Checks that this signature can patch a model with {@code target} fingerprint: same architecture
   * always; the same base weights unless {@code allowTransfer}.
   */
  public void requireApplicableTo(Fingerprint target, String targetName, boolean allowTransfer) {
    fingerprint.requireSameArchitecture(target, "signature " + name() + " vs " + targetName);
    if (!allowTransfer && !fingerprint.sameBase(target)) {
      throw GraftException.precondition(
          "signature %s was extracted against other base weights than %s (fingerprint %s..., model"
              + " %s...); pass transfer=true to patch an updated model of the same architecture",
          name(),
          targetName,
          fingerprint.weightsSha256().substring(0, 12),
          target.weightsSha256().substring(0, 12));
    }
  }

  private static byte[] contentHash(RwsFile file) {
    return Digests.sha256Bytes(file.toBuilder().clearContentSha256().build().toByteArray());
  }

  private static FloatTensor decode(LayerDelta d, String source) {
    long[] dims = d.getDimsList().stream().mapToLong(Long::longValue).toArray();
    long count;
    try {
      count = FloatTensor.elementCount(dims);
    } catch (ArithmeticException | GraftException e) {
      throw GraftException.invalid(
          "%s: tensor %s has an invalid shape %s", source, d.getTensor(), Arrays.toString(dims));
    }
    Quantization q = d.getQuantization();
    if (q.getLevels() < 2 || q.getLevels() > (1 << 16)) {
      throw GraftException.invalid(
          "%s: tensor %s: %d levels is out of range", source, d.getTensor(), q.getLevels());
    }
    int bits = LinearQuantizer.bitsFor(q.getLevels());
    if (q.getBits() != bits) {
      throw GraftException.invalid(
          "%s: tensor %s: %d levels need %d bits, file says %d",
          source, d.getTensor(), q.getLevels(), bits, q.getBits());
    }
    if (count > Integer.MAX_VALUE - 8) {
      throw GraftException.invalid(
          "%s: tensor %s: %d elements is too many", source, d.getTensor(), count);
    }
    long packedBytes = (count * bits + 7) / 8; // count < 2^31, bits <= 16: no overflow
    if (packedBytes != d.getCodes().size()) {
      throw GraftException.invalid(
          "%s: tensor %s: %d codes need %d bytes, file has %d",
          source, d.getTensor(), count, packedBytes, d.getCodes().size());
    }
    int channels;
    int axis = (int) q.getAxis();
    if (q.getGranularity() == Quantization.Granularity.PER_CHANNEL) {
      if (axis < 0 || axis >= dims.length) { // axis is uint32: large values read as negative
        throw GraftException.invalid(
            "%s: tensor %s: channel axis %d out of range", source, d.getTensor(), axis);
      }
      if (dims[axis] > Integer.MAX_VALUE) { // more ranges than an array holds: never real
        throw GraftException.invalid(
            "%s: tensor %s: %d channels is too many", source, d.getTensor(), dims[axis]);
      }
      channels = (int) dims[axis];
    } else {
      channels = 1;
    }
    if (q.getMinCount() != channels || q.getMaxCount() != channels) {
      throw GraftException.invalid(
          "%s: tensor %s: expected %d quantisation ranges, found %d",
          source, d.getTensor(), channels, q.getMinCount());
    }
    for (int c = 0; c < channels; c++) {
      if (!Float.isFinite(q.getMin(c))
          || !Float.isFinite(q.getMax(c))
          || q.getMin(c) > q.getMax(c)) {
        throw GraftException.invalid(
            "%s: tensor %s: invalid range [%s, %s]",
            source, d.getTensor(), q.getMin(c), q.getMax(c));
      }
    }
    int[] codes = LinearQuantizer.unpack(d.getCodes().toByteArray(), (int) count, bits);
    float[] values = new float[(int) count];
    ChannelLayout layout = ChannelLayout.of(dims, channels == 1 ? -1 : axis);
    for (int i = 0; i < values.length; i++) {
      int c = layout.channelOf(i);
      if (codes[i] >= q.getLevels()) {
        throw GraftException.invalid(
            "%s: tensor %s: code %d out of range", source, d.getTensor(), codes[i]);
      }
      values[i] = LinearQuantizer.decode(codes[i], q.getMin(c), q.getMax(c), (int) q.getLevels());
    }
    return new FloatTensor(d.getTensor(), dims, values);
  }

  /**
   * Maps a flat row-major index to its slice along an axis (or 0 when per tensor): the slice is
   * {@code (flat / inner) % channels}, {@code inner} being the product of the dimensions after the
   * axis, computed once so that decoding stays linear in the element count whatever the rank.
   */
  record ChannelLayout(long inner, long channels) {
    static ChannelLayout of(long[] dims, int axis) {
      if (axis < 0) {
        return new ChannelLayout(1, 1);
      }
      long inner = 1;
      for (int i = axis + 1; i < dims.length; i++) {
        inner *= dims[i]; // at most the element count, which the caller has bounded
      }
      return new ChannelLayout(inner, dims[axis]);
    }

    int channelOf(int flat) {
      return channels == 1 ? 0 : (int) ((flat / inner) % channels);
    }
  }
}
