package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.FloatTensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the ONNX Runtime sessions of one model with one {@link SessionSettings}, from a graph file
 * and its memory-mapped weights, with some initializers replaced.
 *
 * <p>The mapped base weights are handed over with {@code addInitializer}: ONNX Runtime then uses
 * the caller's buffer as the initializer and copies nothing. {@code addExternalInitializers} would
 * copy them: measured on the DeiT-S stem (8.2 MiB of mapped weights), every session built that way
 * added 8.5 MiB of private memory, one built with {@code addInitializer} 1.2 MiB (no pre-packing;
 * {@code docs/benchmarks.md}). Initializers handed over with {@code addInitializer} are applied
 * after graph optimisation, which reads the graph file's data; that is the same data for a base
 * weight, so the graph file must be loaded from its path (its external data references then
 * resolve).
 *
 * <p>A replaced initializer that lives in the mapping is passed with {@code
 * addExternalInitializers}, which ONNX Runtime applies before graph optimisation, so that no
 * optimizer (a fusion, NchwcTransformer) can bake the base value into a derived weight. ONNX
 * Runtime copies it, so such a session holds each replacement twice (this tensor and its copy);
 * compact states ({@link DeltaStem}) avoid both. One stored in the graph is passed with {@code
 * addInitializer}, as {@link OrtModelRuntime} does. Stateless apart from its settings; thread safe.
 */
final class SessionFactory {
  private final OrtEnvironment env;
  private final SessionSettings settings;
  private final Map<String, String> extraConfig;
  private final boolean arena;
  private final ReplacementBuffers buffers; // or null: a new buffer per replacement

  SessionFactory(OrtEnvironment env, SessionSettings settings) {
    this(env, settings, Map.of(), true, null);
  }

  /**
   * A factory whose sessions also get {@code extraConfig} session config entries, and ONNX
   * Runtime's CPU memory arena only when {@code arena} (without it, a session keeps no activation
   * memory between runs: right for many small sessions that each run seldom).
   */
  SessionFactory(
      OrtEnvironment env,
      SessionSettings settings,
      Map<String, String> extraConfig,
      boolean arena) {
    this(env, settings, extraConfig, arena, null);
  }

  /**
   * As above, the replaced tensors over {@code buffers} (not owned), or over new direct buffers
   * when {@code null}.
   */
  SessionFactory(
      OrtEnvironment env,
      SessionSettings settings,
      Map<String, String> extraConfig,
      boolean arena,
      ReplacementBuffers buffers) {
    this.env = env;
    this.settings = settings;
    this.extraConfig = Map.copyOf(extraConfig);
    this.arena = arena;
    this.buffers = buffers;
  }

  /**
   * A session and the replacement tensors it reads. The caller owns both and must close the session
   * before the tensors (and keep {@code mapped}, if any, referenced until then).
   */
  record Built(OrtSession session, List<OnnxTensor> overrides, ReplacementBuffers buffers) {
    /** Closes the replacement tensors (their buffers go back for reuse); after the session. */
    void closeOverrides() {
      closeAll(overrides, buffers);
    }

    /** Closes the session, then its tensors; for failure paths. */
    void closeQuietly() {
      try {
        session.close();
      } catch (OrtException | RuntimeException ignored) {
        // already failing: the first error is the one to report
      }
      closeOverrides();
    }
  }

  private static void closeAll(List<OnnxTensor> tensors, ReplacementBuffers buffers) {
    for (OnnxTensor t : tensors) {
      if (buffers == null) {
        t.close();
      } else {
        buffers.release(t);
      }
    }
  }

  /**
   * Builds a session. On failure nothing stays open.
   *
   * @param part the graph file and its memory-mapped initializers; the caller keeps its reference
   *     until the session is closed
   * @param overrides validated replacements (names of the graph's float32 initializers)
   */
  Built build(MappedWeights part, List<FloatTensor> overrides) throws OrtException {
    return build(part.graphFile(), part, overrides, Map.of());
  }

  /**
   * Builds a session of {@code graphFile}, a graph whose external data references are those of
   * {@code part} (the part's own graph, or one derived from it), with {@code initializers}: further
   * shared initializers the caller owns and keeps open until the session is closed.
   */
  Built build(
      Path graphFile,
      MappedWeights part,
      List<FloatTensor> overrides,
      Map<String, OnnxTensor> initializers)
      throws OrtException {
    List<OnnxTensor> owned = new ArrayList<>();
    try (OrtSession.SessionOptions options = settings.newOptions()) {
      for (Map.Entry<String, String> e : extraConfig.entrySet()) {
        options.addConfigEntry(e.getKey(), e.getValue());
      }
      if (!arena) {
        options.setCPUArenaAllocator(false);
      }
      Map<String, OnnxTensor> shared = new LinkedHashMap<>(part.tensors());
      Map<String, OnnxTensorLike> external = new LinkedHashMap<>();
      for (FloatTensor t : overrides) {
        OnnxTensor tensor =
            buffers == null ? ModelInterface.directTensor(env, t) : buffers.tensor(env, t);
        owned.add(tensor);
        if (shared.remove(t.name()) != null) {
          external.put(t.name(), tensor);
        } else {
          options.addInitializer(t.name(), tensor);
        }
      }
      shared.putAll(initializers);
      for (Map.Entry<String, OnnxTensor> e : shared.entrySet()) {
        options.addInitializer(e.getKey(), e.getValue());
      }
      if (!external.isEmpty()) {
        options.addExternalInitializers(external);
      }
      String path = graphFile.toString();
      return new Built(SessionRetry.create(() -> env.createSession(path, options)), owned, buffers);
    } catch (OrtException | RuntimeException e) {
      closeAll(owned, buffers);
      throw e;
    }
  }
}
