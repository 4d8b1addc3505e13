package dev.graft.onnx.build;

import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.OperatorSetIdProto;
import dev.graft.onnx.proto.TensorProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Appends nodes and initializers to a graph, naming intermediate values so they never collide. Not
 * thread safe; one builder makes one graph.
 *
 * <pre>{@code
 * GraphBuilder g = new GraphBuilder("tiny");
 * String x = g.input("x", TensorProto.DataType.FLOAT_VALUE, "N", 4);
 * String y = g.node("MatMul").in(x, g.init(Protos.floats("w", dims, values))).out();
 * g.output(y, "y", TensorProto.DataType.FLOAT_VALUE, "N", 2);
 * }</pre>
 */
public final class GraphBuilder {
  private final GraphProto.Builder graph;
  private final Set<String> names = new HashSet<>();
  private final Set<String> freshUnused = new HashSet<>();
  private final Map<String, String> scalars = new LinkedHashMap<>();
  private int counter;

  public GraphBuilder(String name) {
    this.graph = GraphProto.newBuilder().setName(name);
  }

  /**
   * Continues an existing graph: new nodes are appended to {@code graph}, and new names avoid every
   * name in {@code taken} (pass all value, node and initializer names of the original graph).
   */
  public GraphBuilder(GraphProto.Builder graph, Iterable<String> taken) {
    this.graph = graph;
    taken.forEach(names::add);
  }

  /** Appends an existing node unchanged. */
  public void add(NodeProto existing) {
    names.addAll(existing.getOutputList());
    graph.addNode(existing);
  }

  /** Declares a graph input and returns its name. */
  public String input(String name, int elemType, Object... dims) {
    claim(name);
    graph.addInput(Protos.tensorInfo(name, elemType, dims));
    return name;
  }

  /**
   * Declares {@code value} as a graph output called {@code name}, adding an Identity when the value
   * already has another name.
   */
  public void output(String value, String name, int elemType, Object... dims) {
    if (!value.equals(name)) {
      claim(name);
      graph.addNode(NodeProto.newBuilder().setOpType("Identity").addInput(value).addOutput(name));
    }
    graph.addOutput(Protos.tensorInfo(name, elemType, dims));
  }

  /** Adds an initializer (named freshly by {@link #fresh}, or by a free name); returns its name. */
  public String init(TensorProto tensor) {
    if (!freshUnused.remove(tensor.getName())) {
      claim(tensor.getName());
    }
    graph.addInitializer(tensor);
    return tensor.getName();
  }

  /**
   * A float32 scalar initializer named after {@code base}, shared by every caller asking for the
   * same base and value.
   */
  public String scalar(String base, float value) {
    String key = base + "/" + Integer.toHexString(Float.floatToIntBits(value));
    return scalars.computeIfAbsent(key, k -> init(Protos.scalar(fresh(base), value)));
  }

  /** A 1-D int64 initializer. */
  public String int64s(String name, long... values) {
    return init(Protos.int64s(fresh(name), values));
  }

  /** Starts a node of the default domain. */
  public Node node(String opType) {
    return new Node(opType, "");
  }

  /** Starts a node of another domain, e.g. {@code com.microsoft}. */
  public Node node(String opType, String domain) {
    return new Node(opType, domain);
  }

  /** A name not used yet in this graph, derived from {@code base}. */
  public String fresh(String base) {
    String name = base;
    while (names.contains(name)) {
      name = base + "_" + (++counter);
    }
    names.add(name);
    freshUnused.add(name);
    return name;
  }

  public GraphProto build() {
    return graph.build();
  }

  /**
   * The graph wrapped in a model with the given IR version and opset imports (domain → version).
   */
  public ModelProto model(long irVersion, Map<String, Long> opsets, String producer) {
    ModelProto.Builder m =
        ModelProto.newBuilder().setIrVersion(irVersion).setProducerName(producer).setGraph(build());
    opsets.forEach(
        (domain, version) ->
            m.addOpsetImport(
                OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(version)));
    return m.build();
  }

  private void claim(String name) {
    if (!names.add(name)) {
      throw new IllegalArgumentException("graph " + graph.getName() + ": name " + name + " taken");
    }
  }

  /** A node being built: inputs, attributes, then {@link #out()} or {@link #outs}. */
  public final class Node {
    private final NodeProto.Builder node;
    private final List<AttributeProto> attrs = new ArrayList<>();

    private Node(String opType, String domain) {
      this.node = NodeProto.newBuilder().setOpType(opType);
      if (!domain.isEmpty()) {
        node.setDomain(domain);
      }
    }

    /** Inputs in order; an empty string marks an omitted optional input. */
    public Node in(String... inputs) {
      for (String i : inputs) {
        node.addInput(i);
      }
      return this;
    }

    /** Names the node; an empty name leaves it unnamed. */
    public Node name(String name) {
      if (!name.isEmpty()) {
        node.setName(name);
      }
      return this;
    }

    public Node attr(String name, long value) {
      attrs.add(Protos.attr(name, value));
      return this;
    }

    public Node attr(String name, float value) {
      attrs.add(Protos.attr(name, value));
      return this;
    }

    public Node attr(String name, String value) {
      attrs.add(Protos.attr(name, value));
      return this;
    }

    public Node attrTensor(String name, TensorProto value) {
      attrs.add(Protos.attr(name, value));
      return this;
    }

    public Node ints(String name, long... values) {
      attrs.add(Protos.ints(name, values));
      return this;
    }

    /** Adds the node with one output named after {@code base}; returns the output's name. */
    public String out(String base) {
      return outs(base, 1)[0];
    }

    /** Adds the node with one output named after the operator. */
    public String out() {
      return out(node.getOpType().toLowerCase(java.util.Locale.ROOT));
    }

    /** Adds the node with {@code n} outputs; returns their names. */
    public String[] outs(String base, int n) {
      String[] out = new String[n];
      for (int i = 0; i < n; i++) {
        out[i] = fresh(n == 1 ? base : base + "_" + i);
        node.addOutput(out[i]);
      }
      attrs.forEach(node::addAttribute);
      graph.addNode(node);
      return out;
    }

    /**
     * Adds the node writing to an exact output name: a free one, or the name of a value whose
     * producer the caller has dropped (when replacing a node of a continued graph).
     */
    public String to(String output) {
      names.add(output);
      node.addOutput(output);
      attrs.forEach(node::addAttribute);
      graph.addNode(node);
      return output;
    }
  }
}
