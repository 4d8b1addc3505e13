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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
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
 * <p>Ownership: owns the session and one reference on each kept index tensor. Closed by its body
 * after the last state on it; holds no reference on the stem's mapped weights (the body does), but
 * reads the base values to encode against from them, which is valid because the body outlives it.
 * Thread safe: the kept indexes and idle tables are guarded by this object's monitor, and sessions
 * run concurrently.
 */
final class DeltaStem implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(DeltaStem.class.getName());

  /** Index bytes kept for reuse across states; beyond, the least recently used go. */
  static final long KEPT_INDEX_BYTES = 32L << 20;

  /** Idle sets of table tensors kept for the next states. */
  static final int IDLE_TABLE_SETS = 4;

  private final OrtEnvironment env;
  private final OnnxModel stem;
  private final Map<String, OnnxTensor> mapped;
  private final OrtSession session;
  private final Set<String> stemInputs;
  // identity keys (arrays do not override equals), least recently used first
  private final LinkedHashMap<byte[], SharedTensor> keptIndexes =
      new LinkedHashMap<>(16, 0.75f, true);
  private long keptBytes;
  private final ArrayDeque<Tables> idleTables = new ArrayDeque<>();
  private boolean closed;
  private final Map<String, String> indexInputs = new HashMap<>(); // by tensor
  private final Map<String, String> tableInputs = new LinkedHashMap<>(); // by tensor

  private DeltaStem(
      OrtEnvironment env,
      OnnxModel stem,
      Set<String> tensors,
      Map<String, OnnxTensor> mapped,
      OrtSession session) {
    this.env = env;
    this.stem = stem;
    this.mapped = mapped;
    this.session = session;
    Set<String> own = new HashSet<>(session.getInputNames());
    for (String t : tensors) {
      indexInputs.put(t, DeltaInputs.indexInput(t));
      tableInputs.put(t, DeltaInputs.tableInput(t));
      own.remove(DeltaInputs.indexInput(t));
      own.remove(DeltaInputs.tableInput(t));
    }
    this.stemInputs = Set.copyOf(own);
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
   * tensors, or empty when a tensor needs more than 256 deltas; the caller owns the feeds. Each
   * tensor's deltas come from {@code known} where it has them (their index must have the tensor's
   * element count), else from a search ({@link DeltaCodec}). A known index's tensor is kept, keyed
   * by the index array's identity, and shared by every state given the same array ({@link
   * DeltaLevels#scaled} gives one array for every scale of a signature).
   */
  Optional<Feeds> encode(List<FloatTensor> overrides, Map<String, ByteDeltas> known)
      throws OrtException {
    if (overrides.size() != indexInputs.size()) {
      throw new IllegalArgumentException(
          "this stem takes deltas for " + indexInputs.size() + " tensors, not " + overrides.size());
    }
    Feeds feeds = new Feeds(takeTables());
    try {
      for (FloatTensor t : overrides) {
        String indexInput = indexInputs.get(t.name());
        if (indexInput == null) {
          throw new IllegalArgumentException(t.name() + " is not a delta input of this stem");
        }
        ByteDeltas code = known.get(t.name());
        OnnxTensor index;
        if (code != null && code.index().length == t.data().length) {
          index = feeds.share(sharedIndex(code.index(), t.dims()));
        } else {
          Optional<ByteDeltas> searched = DeltaCodec.encode(base(t.name()), t.data());
          if (searched.isEmpty()) {
            feeds.close();
            return Optional.empty();
          }
          code = searched.get();
          index = feeds.own(indexTensor(env, code.index(), t.dims()));
        }
        feeds.inputs.put(indexInput, index);
        feeds.tables.write(t.name(), code.table());
      }
      feeds.inputs.putAll(feeds.tables.tensors);
      return Optional.of(feeds);
    } catch (OrtException | RuntimeException e) {
      feeds.close();
      throw e;
    }
  }

  /** The session's inputs that are not delta inputs: the stem's own. */
  Set<String> stemInputs() {
    return stemInputs;
  }

  /** An idle set of table tensors, or a new one. */
  private Tables takeTables() throws OrtException {
    synchronized (this) {
      Tables idle = idleTables.poll();
      if (idle != null) {
        return idle;
      }
    }
    return new Tables(env, tableInputs);
  }

  /** Keeps {@code tables} for the next state, or closes them. No inference may read them. */
  private void giveBack(Tables tables) {
    synchronized (this) {
      if (!closed && idleTables.size() < IDLE_TABLE_SETS) {
        idleTables.push(tables);
        return;
      }
    }
    tables.close();
  }

  /**
   * The kept tensor of {@code index}, with a reference for the caller; created (and the least
   * recently used ones let go beyond {@link #KEPT_INDEX_BYTES}) when not kept yet.
   */
  private synchronized SharedTensor sharedIndex(byte[] index, long[] dims) throws OrtException {
    if (closed) {
      throw new IllegalStateException("the delta stem is closed");
    }
    SharedTensor kept = keptIndexes.get(index);
    if (kept != null && Arrays.equals(kept.tensor().getInfo().getShape(), dims)) {
      kept.acquireHeld();
      return kept;
    }
    SharedTensor created = new SharedTensor(indexTensor(env, index, dims));
    SharedTensor replaced = keptIndexes.put(index, created);
    keptBytes += index.length;
    if (replaced != null) {
      keptBytes -= replaced.bytes();
      replaced.release();
    }
    Iterator<Map.Entry<byte[], SharedTensor>> eldest = keptIndexes.entrySet().iterator();
    while (keptBytes > KEPT_INDEX_BYTES && eldest.hasNext()) {
      SharedTensor t = eldest.next().getValue();
      if (t != created) {
        keptBytes -= t.bytes();
        eldest.remove();
        t.release();
      }
    }
    created.acquireHeld();
    return created;
  }

  /** The kept index tensors, for counting memory once. */
  synchronized List<SharedTensor> keptIndexes() {
    return List.copyOf(keptIndexes.values());
  }

  /**
   * A table input for each delta input of the stem: 256 floats over a direct buffer that the tensor
   * reads without a copy, so a new state writes its tables into an idle set instead of creating
   * tensors (entries past a table's length are never selected). A set is written before its state
   * is published and never after, and goes back to the idle sets only when no inference reads it.
   * Not thread safe.
   */
  private static final class Tables implements AutoCloseable {
    private final Map<String, FloatBuffer> buffers = new HashMap<>(); // by tensor
    private final Map<String, OnnxTensor> tensors = new LinkedHashMap<>(); // by input

    Tables(OrtEnvironment env, Map<String, String> inputs) throws OrtException {
      try {
        for (Map.Entry<String, String> e : inputs.entrySet()) {
          FloatBuffer b =
              ByteBuffer.allocateDirect(DeltaCodec.MAX_LEVELS * Float.BYTES)
                  .order(ByteOrder.nativeOrder())
                  .asFloatBuffer();
          tensors.put(
              e.getValue(), OnnxTensor.createTensor(env, b, new long[] {DeltaCodec.MAX_LEVELS}));
          buffers.put(e.getKey(), b);
        }
      } catch (OrtException | RuntimeException e) {
        close();
        throw e;
      }
    }

    void write(String tensor, float[] table) {
      buffers.get(tensor).put(0, table);
    }

    long bytes() {
      return (long) tensors.size() * DeltaCodec.MAX_LEVELS * Float.BYTES;
    }

    @Override
    public void close() {
      tensors.values().forEach(OnnxTensor::close);
    }
  }

  /**
   * A compact state's inputs to the delta stem: a set of tables, the index tensors it owns (found
   * by search) and references on the kept indexes it shares. Not thread safe; closed once.
   */
  final class Feeds implements AutoCloseable {
    private final Map<String, OnnxTensor> inputs = new HashMap<>();
    private final List<OnnxTensor> owned = new ArrayList<>();
    private final List<SharedTensor> shared = new ArrayList<>();
    private final Tables tables;

    private Feeds(Tables tables) {
      this.tables = tables;
    }

    private OnnxTensor own(OnnxTensor t) {
      owned.add(t);
      return t;
    }

    private OnnxTensor share(SharedTensor t) {
      shared.add(t);
      return t.tensor();
    }

    /** The delta stem's inputs, by input name; valid until {@link #close}. */
    Map<String, OnnxTensor> inputs() {
      return Collections.unmodifiableMap(inputs);
    }

    /** The kept indexes these feeds hold references on. */
    List<SharedTensor> shared() {
      return Collections.unmodifiableList(shared);
    }

    /** Bytes of the tensors these feeds own (shared indexes not counted). */
    long ownedBytes() {
      long bytes = tables.bytes();
      for (OnnxTensor t : owned) {
        bytes += t.getInfo().getNumElements() * t.getInfo().type.size;
      }
      return bytes;
    }

    @Override
    public void close() {
      owned.forEach(OnnxTensor::close);
      shared.forEach(SharedTensor::release);
      giveBack(tables);
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
    synchronized (this) {
      closed = true;
      keptIndexes.values().forEach(SharedTensor::release);
      keptIndexes.clear();
      keptBytes = 0;
      idleTables.forEach(Tables::close);
      idleTables.clear();
    }
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
