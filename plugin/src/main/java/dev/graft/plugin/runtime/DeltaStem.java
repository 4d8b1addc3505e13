package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.split.DeltaInputs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The stem of a {@link SharedBody} rewritten to take the changes of some of its tensors as inputs
 * ({@link DeltaInputs}), with its one session: every compact weight state of the body that replaces
 * exactly these tensors runs this session with its own byte deltas ({@link DeltaCodec}), so such a
 * state costs one byte per replaced weight and no session of its own.
 *
 * <p>Ownership: owns the session. Closed by its body after the last state on it; holds no reference
 * on the stem's mapped weights (the body does), but reads the base values to encode against from
 * them, which is valid because the body outlives it. Thread safe: immutable, and sessions run
 * concurrently.
 */
final class DeltaStem implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(DeltaStem.class.getName());

  private final OrtEnvironment env;
  private final OnnxModel stem;
  private final Set<String> tensors;
  private final Map<String, OnnxTensor> mapped;
  private final OrtSession session;

  private DeltaStem(
      OrtEnvironment env,
      OnnxModel stem,
      Set<String> tensors,
      Map<String, OnnxTensor> mapped,
      OrtSession session) {
    this.env = env;
    this.stem = stem;
    this.tensors = tensors;
    this.mapped = mapped;
    this.session = session;
  }

  /**
   * Writes the stem of {@code mapped} with delta inputs for {@code tensors} as {@code fileName}
   * next to its graph file, and builds its session.
   *
   * @throws GraftException when a tensor is not a float32 initializer of the stem
   */
  static DeltaStem build(
      OrtEnvironment env,
      SessionFactory factory,
      MappedWeights mapped,
      Set<String> tensors,
      String fileName)
      throws OrtException {
    Path graphFile = mapped.graphFile();
    OnnxModel stem = OnnxModel.parse(mapped.graph(), graphFile.getParent(), graphFile.toString());
    Path deltaFile = graphFile.resolveSibling(fileName);
    DeltaInputs.add(stem, tensors).save(deltaFile);
    SessionFactory.Built built = factory.build(deltaFile, mapped, List.of(), Map.of());
    return new DeltaStem(env, stem, Set.copyOf(tensors), mapped.tensors(), built.session());
  }

  /** The session; valid while the body is referenced. */
  OrtSession session() {
    return session;
  }

  /**
   * The byte deltas of {@code overrides} (which replace exactly this stem's tensors) as input
   * tensors, or empty when a tensor needs more than 256 deltas. The caller owns the tensors.
   */
  Optional<Map<String, OnnxTensor>> encode(List<FloatTensor> overrides) throws OrtException {
    return encode(overrides, Map.of());
  }

  /**
   * As {@link #encode(List)}, taking each tensor's deltas from {@code known} where it has them
   * (their index must have the tensor's element count) instead of searching for them.
   */
  Optional<Map<String, OnnxTensor>> encode(
      List<FloatTensor> overrides, Map<String, ByteDeltas> known) throws OrtException {
    Map<String, ByteDeltas> codes = new LinkedHashMap<>();
    for (FloatTensor t : overrides) {
      if (!tensors.contains(t.name())) {
        throw new IllegalArgumentException(t.name() + " is not a delta input of this stem");
      }
      ByteDeltas given = known.get(t.name());
      if (given != null && given.index().length == t.data().length) {
        codes.put(t.name(), given);
        continue;
      }
      Optional<ByteDeltas> code = DeltaCodec.encode(base(t.name()), t.data());
      if (code.isEmpty()) {
        return Optional.empty();
      }
      codes.put(t.name(), code.get());
    }
    Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
    try {
      for (FloatTensor t : overrides) {
        ByteDeltas code = codes.get(t.name());
        feeds.put(DeltaInputs.indexInput(t.name()), indexTensor(env, code.index(), t.dims()));
        feeds.put(
            DeltaInputs.tableInput(t.name()),
            OnnxTensor.createTensor(
                env, FloatBuffer.wrap(code.table()), new long[] {code.table().length}));
      }
      return Optional.of(feeds);
    } catch (OrtException | RuntimeException e) {
      feeds.values().forEach(OnnxTensor::close);
      throw e;
    }
  }

  /**
   * The base values of {@code tensor}: copied from the stem's mapped weights when it is one of them
   * (the graph would open and map the data file again on every patch), else read from the graph.
   */
  private float[] base(String tensor) {
    OnnxTensor t = mapped.get(tensor);
    if (t != null && t.getBufferRef().orElse(null) instanceof ByteBuffer bytes) {
      FloatBuffer floats = bytes.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
      float[] out = new float[floats.remaining()];
      floats.get(out);
      return out;
    }
    return stem.floatTensor(tensor).data();
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException | RuntimeException e) {
      LOG.log(Level.WARNING, "Closing the delta stem session failed", e);
    }
  }

  /** A uint8 tensor over a direct buffer (ONNX Runtime would copy a heap one once more). */
  private static OnnxTensor indexTensor(OrtEnvironment env, byte[] index, long[] dims)
      throws OrtException {
    ByteBuffer direct = ByteBuffer.allocateDirect(index.length).order(ByteOrder.nativeOrder());
    direct.put(index).flip();
    return OnnxTensor.createTensor(env, direct, dims, OnnxJavaType.UINT8);
  }
}
