package dev.graft.plugin.runtime.pytorch;

import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.util.Pair;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.PyTorchEngine;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads TorchScript files on DJL's PyTorch engine ({@code trainParam=true}, so the parameters are
 * named and writable), checks that the engine's parameters are the weights Graft read from the same
 * file, and warms the module up. Instantiated reflectively by {@link PyTorchEngine} once the
 * engine's classes are known to be present. Stateless.
 */
public final class PtModelOpener implements PyTorchEngine.Opener {
  static final String ENGINE = "PyTorch";

  /** TorchScript's profiling executor optimises a graph after its first runs: do them at load. */
  private static final int WARM_UP_RUNS = 2;

  public PtModelOpener() {}

  @Override
  public ModelRuntime open(String name, Path file, ModelSettings.Io settings, ModelWeights base) {
    startEngine(name);
    ZooModel<NDList, NDList> model = load(name, file);
    try {
      Map<String, NDArray> parameters = parameters(model);
      verify(name, parameters, base);
      TorchIo io = TorchIo.of(settings);
      if (io.fullyDeclared()) {
        PtModelRuntime probe = new PtModelRuntime(name, model, parameters, io);
        List<FloatTensor> measured = null;
        for (int i = 0; i < WARM_UP_RUNS; i++) {
          measured = probe.forward(io.probeInputs());
        }
        io = io.withMeasuredOutputs(measured);
      }
      return new PtModelRuntime(name, model, parameters, io);
    } catch (RuntimeException | Error e) {
      model.close();
      throw e;
    }
  }

  private static void startEngine(String name) {
    Thread thread = Thread.currentThread();
    ClassLoader previous = enterPluginLoader(thread);
    try {
      Engine.getEngine(ENGINE);
    } catch (EngineException | IllegalArgumentException e) {
      throw new GraftException(
          GraftException.Code.FAILED_PRECONDITION,
          "model " + name + ": the PyTorch engine cannot start: " + e.getMessage(),
          e);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  private static ZooModel<NDList, NDList> load(String name, Path file) {
    Criteria<NDList, NDList> criteria =
        Criteria.builder()
            .setTypes(NDList.class, NDList.class)
            .optModelPath(file)
            .optEngine(ENGINE)
            .optOption("trainParam", "true")
            .build();
    Thread thread = Thread.currentThread();
    ClassLoader previous = enterPluginLoader(thread);
    try {
      return criteria.loadModel();
    } catch (ModelNotFoundException | MalformedModelException | IOException | EngineException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          "model " + name + ": PyTorch cannot load " + file.getFileName() + ": " + e.getMessage(),
          e);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /**
   * Makes the plugin's class loader the thread's context loader and returns the previous one, which
   * the caller restores: DJL finds engines with {@code ServiceLoader} and its native library as a
   * resource through that loader, and the host runs plugins in a class loader of their own.
   */
  private static ClassLoader enterPluginLoader(Thread thread) {
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(PtModelOpener.class.getClassLoader());
    return previous;
  }

  private static Map<String, NDArray> parameters(ZooModel<NDList, NDList> model) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      out.put(p.getKey(), p.getValue().getArray());
    }
    return out;
  }

  /** Every float32 parameter must be, bit for bit, the tensor Graft read from the file. */
  private static void verify(String name, Map<String, NDArray> parameters, ModelWeights base) {
    for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
      NDArray array = e.getValue();
      if (array.getDataType() != DataType.FLOAT32) {
        continue;
      }
      if (!base.hasTensor(e.getKey())) {
        throw GraftException.precondition(
            "model %s: PyTorch has a parameter %s that Graft does not find in %s",
            name, e.getKey(), base.source());
      }
      FloatTensor expected = base.floatTensor(e.getKey());
      if (!Arrays.equals(array.getShape().getShape(), expected.dims())
          || !Arrays.equals(array.toFloatArray(), expected.data())) {
        throw GraftException.precondition(
            "model %s: PyTorch's parameter %s differs from the one Graft read from %s (was the"
                + " file replaced while loading?)",
            name, e.getKey(), base.source());
      }
    }
  }
}
