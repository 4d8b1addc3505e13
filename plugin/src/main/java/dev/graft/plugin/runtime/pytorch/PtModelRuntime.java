package dev.graft.plugin.runtime.pytorch;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.TensorSpec;
import dev.graft.plugin.runtime.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A TorchScript model served by DJL's PyTorch engine, whose weights are patched in place.
 *
 * <p>There is one copy of the module. A read-write lock keeps a forward pass from seeing half a
 * patch: {@link #infer} runs the forward pass, copies the outputs out and reads the weight label
 * under the read lock; {@link #swapWeights} takes the write lock, which waits for the forward
 * passes already running and holds new ones back while it copies the new values into the parameters
 * (microseconds per tensor). The lock is fair, so a patch never starves behind a stream of
 * inferences. Inferences run concurrently with each other.
 *
 * <p>Before a parameter is first written, its base values are copied to the heap; a parameter that
 * the new weights no longer replace gets those values back, so detaching restores the base bit for
 * bit. A failed swap restores the previous weights before it throws.
 *
 * <p>Ownership: owns the {@link ZooModel} (and through it every native array of the module,
 * including the parameters); each inference creates its input and output arrays in a sub-manager it
 * closes before returning, so no native array outlives the call. {@link #close} waits for running
 * inferences, then closes the model. Thread safe; callers serialise swaps.
 */
public final class PtModelRuntime implements ModelRuntime {
  private final String name;
  private final ZooModel<NDList, NDList> model;
  private final Block block;
  private final Map<String, NDArray> parameters;
  private final TorchIo io;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
  private final Map<String, float[]> baseValues = new HashMap<>(); // guarded by lock (write)
  private Weights current = Weights.base(); // guarded by lock
  private boolean closed; // guarded by lock

  /**
   * Takes ownership of a loaded model.
   *
   * @param parameters the module's parameter arrays by name (owned by {@code model})
   */
  PtModelRuntime(
      String name, ZooModel<NDList, NDList> model, Map<String, NDArray> parameters, TorchIo io) {
    this.name = name;
    this.model = model;
    this.block = model.getBlock();
    this.parameters = Map.copyOf(parameters);
    this.io = io;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<TensorSpec> inputs() {
    return io.inputs();
  }

  @Override
  public List<TensorSpec> outputs() {
    return io.outputs();
  }

  @Override
  public String weightsLabel() {
    lock.readLock().lock();
    try {
      return closed ? "closed" : current.label();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public InferenceResult infer(Map<String, FloatTensor> feeds, Set<String> wanted) {
    List<FloatTensor> arguments = io.arguments(name, feeds);
    List<Integer> selected = io.select(name, wanted);
    lock.readLock().lock();
    try {
      if (closed) {
        throw new GraftException(GraftException.Code.UNAVAILABLE, name + " is being unloaded");
      }
      List<FloatTensor> all = forward(arguments);
      List<FloatTensor> out = new ArrayList<>(selected.size());
      for (int i : selected) {
        out.add(all.get(i));
      }
      return new InferenceResult(current.label(), out);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Runs the module on float32 arguments; the caller holds the read lock (or the write lock). */
  List<FloatTensor> forward(List<FloatTensor> arguments) {
    try (NDManager scope = model.getNDManager().newSubManager()) {
      NDList in = new NDList(arguments.size());
      for (FloatTensor t : arguments) {
        in.add(scope.create(t.data(), new Shape(t.dims())));
      }
      NDList out = block.forward(new ParameterStore(scope, false), in, false);
      if (out.size() != io.outputs().size()) {
        throw GraftException.precondition(
            "%s returned %d outputs, but serving.properties names %d (graft.outputs=%s)",
            name, out.size(), io.outputs().size(), io.outputNames());
      }
      List<FloatTensor> values = new ArrayList<>(out.size());
      for (int i = 0; i < out.size(); i++) {
        values.add(toFloatTensor(io.outputs().get(i).name(), out.get(i)));
      }
      return values;
    } catch (EngineException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          name + ": PyTorch rejected the input: " + firstLine(e.getMessage()),
          e);
    }
  }

  @Override
  public void swapWeights(Weights weights) {
    validate(weights);
    lock.writeLock().lock();
    try {
      if (closed) {
        throw new GraftException(GraftException.Code.UNAVAILABLE, name + " is being unloaded");
      }
      Weights previous = current;
      try {
        write(previous, weights);
      } catch (RuntimeException e) {
        try {
          write(weights, previous);
        } catch (RuntimeException again) {
          e.addSuppressed(again);
        }
        throw new GraftException(
            GraftException.Code.INTERNAL,
            name + ": cannot write the parameters of " + weights.label() + ": " + e.getMessage(),
            e);
      }
      current = weights;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Moves the parameters from {@code from} to {@code to}. Caller holds the write lock. */
  private void write(Weights from, Weights to) {
    Set<String> next = new HashSet<>();
    for (FloatTensor t : to.overrides()) {
      next.add(t.name());
      NDArray p = parameters.get(t.name());
      baseValues.computeIfAbsent(t.name(), k -> p.toFloatArray());
      p.set(t.data());
    }
    for (FloatTensor t : from.overrides()) {
      if (!next.contains(t.name())) {
        parameters.get(t.name()).set(baseValues.get(t.name()));
      }
    }
  }

  /** The values a parameter holds now (tests). */
  float[] parameterValues(String parameter) {
    lock.readLock().lock();
    try {
      return parameters.get(parameter).toFloatArray();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Native arrays the model's manager holds, its sub-managers included (leak checks). */
  int liveArrays() {
    lock.readLock().lock();
    try {
      return model.getNDManager().getManagedArrays().size();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        model.close();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void validate(Weights weights) {
    Set<String> seen = new HashSet<>();
    for (FloatTensor t : weights.overrides()) {
      if (!seen.add(t.name())) {
        throw GraftException.invalid("%s: tensor %s is replaced twice", name, t.name());
      }
      NDArray p = parameters.get(t.name());
      if (p == null) {
        throw GraftException.precondition("%s has no parameter named %s", name, t.name());
      }
      if (p.getDataType() != DataType.FLOAT32) {
        throw GraftException.precondition(
            "%s: parameter %s is %s, not float32", name, t.name(), p.getDataType());
      }
      if (!Arrays.equals(p.getShape().getShape(), t.dims())) {
        throw GraftException.precondition(
            "%s: parameter %s has shape %s, the replacement has %s",
            name, t.name(), Arrays.toString(p.getShape().getShape()), t.shapeString());
      }
    }
  }

  private FloatTensor toFloatTensor(String output, NDArray a) {
    if (a.getDataType() != DataType.FLOAT32) {
      throw GraftException.precondition(
          "%s: output %s is %s; Graft returns float32 outputs only", name, output, a.getDataType());
    }
    return new FloatTensor(output, a.getShape().getShape(), a.toFloatArray());
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
