package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.FloatTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the ONNX Runtime sessions of one model with one {@link SessionSettings}, from a graph and
 * optionally memory-mapped weights, with some initializers replaced.
 *
 * <p>A replaced initializer that lives in the mapping is passed in its place through {@code
 * addExternalInitializers} (ONNX Runtime requires the external ones to come that way, and applies
 * them before graph optimisation); one stored in the graph is passed with {@code addInitializer}.
 * Stateless apart from its settings; thread safe.
 */
final class SessionFactory {
  private final OrtEnvironment env;
  private final SessionSettings settings;
  private final Map<String, String> extraConfig;
  private final boolean arena;

  SessionFactory(OrtEnvironment env, SessionSettings settings) {
    this(env, settings, Map.of(), true);
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
    this.env = env;
    this.settings = settings;
    this.extraConfig = Map.copyOf(extraConfig);
    this.arena = arena;
  }

  /**
   * A session and the replacement tensors it reads. The caller owns both and must close the session
   * before the tensors (and keep {@code mapped}, if any, referenced until then).
   */
  record Built(OrtSession session, List<OnnxTensor> overrides) {
    /** Closes the session, then its tensors; for failure paths. */
    void closeQuietly() {
      try {
        session.close();
      } catch (OrtException | RuntimeException ignored) {
        // already failing: the first error is the one to report
      }
      overrides.forEach(OnnxTensor::close);
    }
  }

  /**
   * Builds a session. On failure nothing stays open.
   *
   * @param graph the serialized model
   * @param mapped its memory-mapped initializers, or {@code null} when the graph holds them all
   * @param overrides validated replacements (names of the graph's float32 initializers)
   */
  Built build(byte[] graph, MappedWeights mapped, List<FloatTensor> overrides) throws OrtException {
    List<OnnxTensor> owned = new ArrayList<>();
    try (OrtSession.SessionOptions options = settings.newOptions()) {
      for (Map.Entry<String, String> e : extraConfig.entrySet()) {
        options.addConfigEntry(e.getKey(), e.getValue());
      }
      if (!arena) {
        options.setCPUArenaAllocator(false);
      }
      Map<String, OnnxTensorLike> external = new LinkedHashMap<>();
      if (mapped != null) {
        external.putAll(mapped.tensors());
      }
      for (FloatTensor t : overrides) {
        OnnxTensor tensor = ModelInterface.directTensor(env, t);
        owned.add(tensor);
        if (external.containsKey(t.name())) {
          external.put(t.name(), tensor);
        } else {
          options.addInitializer(t.name(), tensor);
        }
      }
      if (!external.isEmpty()) {
        options.addExternalInitializers(external);
      }
      return new Built(SessionRetry.create(() -> env.createSession(graph, options)), owned);
    } catch (OrtException | RuntimeException e) {
      owned.forEach(OnnxTensor::close);
      throw e;
    }
  }
}
