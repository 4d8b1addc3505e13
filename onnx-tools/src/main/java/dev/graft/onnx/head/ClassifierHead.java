package dev.graft.onnx.head;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.safetensors.SafeTensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A linear classifier head: {@code C} labels, a weight matrix {@code [C, D]} and a bias {@code
 * [C]}, applied to {@code D} features as {@code logits = features · Wᵀ + b}. Row {@code i} of the
 * weight and entry {@code i} of the bias belong to label {@code i}.
 *
 * <p>Immutable and thread safe: every constructor copies the arrays it is given and every accessor
 * that returns an array returns a copy. A head is always valid: at least one class, {@code D > 0},
 * finite weights and biases, unique non-empty labels without commas (the safetensors metadata
 * stores them comma-separated).
 *
 * <p>Safetensors layout (as in the fixtures): tensors {@code weight} {@code [C, D]} and {@code
 * bias} {@code [C]}, metadata {@code classes} (labels in row order, comma-separated) and {@code
 * feature_dim}.
 */
public final class ClassifierHead {
  /** Safetensors metadata key of the labels. */
  public static final String CLASSES_KEY = "classes";

  /** Safetensors metadata key of the feature dimension. */
  public static final String FEATURE_DIM_KEY = "feature_dim";

  private final List<String> labels;
  private final int featureDim;
  private final float[] weight; // row-major [C, D]
  private final float[] bias;

  private ClassifierHead(List<String> labels, int featureDim, float[] weight, float[] bias) {
    this.labels = labels;
    this.featureDim = featureDim;
    this.weight = weight;
    this.bias = bias;
  }

  /**
   * A head from a row-major weight {@code [labels.size(), featureDim]} and a bias {@code
   * [labels.size()]}.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} naming the problem when the parts are not a
   *     valid head
   */
  public static ClassifierHead of(
      List<String> labels, int featureDim, float[] weight, float[] bias) {
    List<String> labelCopy = List.copyOf(labels);
    validate(labelCopy, featureDim, weight, bias);
    return new ClassifierHead(labelCopy, featureDim, weight.clone(), bias.clone());
  }

  /** A head from weight rows; the feature dimension is the rows' length. */
  public static ClassifierHead ofRows(List<String> labels, float[][] rows, float[] bias) {
    if (rows.length == 0) {
      throw GraftException.invalid("head has no weight rows");
    }
    int dim = rows[0].length;
    float[] flat = new float[Math.multiplyExact(rows.length, dim)];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != dim) {
        throw GraftException.invalid(
            "weight row %d has %d values, row 0 has %d: rows must have equal length",
            i, rows[i].length, dim);
      }
      System.arraycopy(rows[i], 0, flat, i * dim, dim);
    }
    if (rows.length != labels.size()) {
      throw GraftException.invalid(
          "head has %d labels but %d weight rows", labels.size(), rows.length);
    }
    List<String> labelCopy = List.copyOf(labels);
    validate(labelCopy, dim, flat, bias);
    return new ClassifierHead(labelCopy, dim, flat, bias.clone());
  }

  /** Reads a head from a safetensors file (see the class comment for the layout). */
  public static ClassifierHead read(Path file) {
    return fromSafeTensors(SafeTensors.read(file), file.toString());
  }

  /** Parses safetensors bytes, naming {@code source} in errors. */
  public static ClassifierHead parse(byte[] bytes, String source) {
    return fromSafeTensors(SafeTensors.parse(bytes, source), source);
  }

  /**
   * A head from parsed safetensors. {@code weight}, {@code bias} and metadata {@code classes} are
   * required; {@code feature_dim}, when present, must equal the weight's second dimension.
   */
  public static ClassifierHead fromSafeTensors(SafeTensors st, String source) {
    for (String name : List.of("weight", "bias")) {
      if (!st.has(name)) {
        throw GraftException.invalid(
            "%s: a head needs tensors 'weight' [C,D] and 'bias' [C]; '%s' is missing (has %s)",
            source, name, st.entries().keySet());
      }
    }
    String classes = st.metadata().get(CLASSES_KEY);
    if (classes == null) {
      throw GraftException.invalid(
          "%s: metadata '%s' (labels in row order, comma-separated) is missing",
          source, CLASSES_KEY);
    }
    FloatTensor w = st.floatTensor("weight");
    FloatTensor b = st.floatTensor("bias");
    if (w.dims().length != 2 || w.dims()[0] == 0 || w.dims()[1] == 0) {
      throw GraftException.invalid(
          "%s: weight must be a non-empty [C,D] matrix, is %s", source, w.shapeString());
    }
    if (b.dims().length != 1) {
      throw GraftException.invalid("%s: bias must be a vector [C], is %s", source, b.shapeString());
    }
    int dim = Math.toIntExact(w.dims()[1]);
    String declaredDim = st.metadata().get(FEATURE_DIM_KEY);
    if (declaredDim != null && !declaredDim.strip().equals(Integer.toString(dim))) {
      throw GraftException.invalid(
          "%s: metadata %s=%s but the weight has %d columns",
          source, FEATURE_DIM_KEY, declaredDim, dim);
    }
    try {
      return of(splitLabels(classes), dim, w.data(), b.data());
    } catch (GraftException e) {
      throw new GraftException(e.code(), source + ": " + e.getMessage(), e);
    }
  }

  /**
   * The head as safetensors bytes, with {@code classes}, {@code feature_dim} and the extra
   * metadata.
   */
  public byte[] toSafeTensors(Map<String, String> extraMetadata) {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put(CLASSES_KEY, String.join(",", labels));
    metadata.put(FEATURE_DIM_KEY, Integer.toString(featureDim));
    metadata.putAll(extraMetadata);
    return SafeTensors.write(
        List.of(
            new FloatTensor("weight", new long[] {classes(), featureDim}, weight.clone()),
            new FloatTensor("bias", new long[] {classes()}, bias.clone())),
        metadata);
  }

  /** Labels in row order (unmodifiable). */
  public List<String> labels() {
    return labels;
  }

  /** Number of classes {@code C}. */
  public int classes() {
    return labels.size();
  }

  /** Feature dimension {@code D}. */
  public int featureDim() {
    return featureDim;
  }

  /** A copy of the row-major weight {@code [C, D]}. */
  public float[] weight() {
    return weight.clone();
  }

  /** A copy of the bias {@code [C]}. */
  public float[] bias() {
    return bias.clone();
  }

  /** A copy of weight row {@code i}. */
  public float[] row(int i) {
    return Arrays.copyOfRange(weight, i * featureDim, (i + 1) * featureDim);
  }

  /** Euclidean norm of every weight row, accumulated in double. */
  public double[] rowNorms() {
    double[] norms = new double[classes()];
    for (int c = 0; c < norms.length; c++) {
      double sum = 0;
      for (int d = 0, at = c * featureDim; d < featureDim; d++, at++) {
        sum += (double) weight[at] * weight[at];
      }
      norms[c] = Math.sqrt(sum);
    }
    return norms;
  }

  /**
   * Logits for {@code n} feature vectors.
   *
   * @param features row-major {@code [n, D]}
   * @return row-major {@code [n, C]}: {@code features · Wᵀ + b}, dot products accumulated in double
   * @throws GraftException {@code INVALID_ARGUMENT} when {@code features} does not hold {@code n·D}
   *     values
   */
  public float[] logits(float[] features, int n) {
    if (n < 0 || features.length != (long) n * featureDim) {
      throw GraftException.invalid(
          "head expects %d features per row: %d rows need %d values, got %d",
          featureDim, n, (long) n * featureDim, features.length);
    }
    int c = classes();
    float[] out = new float[Math.multiplyExact(n, c)];
    for (int r = 0; r < n; r++) {
      int f0 = r * featureDim;
      for (int k = 0; k < c; k++) {
        int w0 = k * featureDim;
        double sum = bias[k];
        for (int d = 0; d < featureDim; d++) {
          sum += (double) features[f0 + d] * weight[w0 + d];
        }
        out[r * c + k] = (float) sum;
      }
    }
    return out;
  }

  /** Rows {@code [from, to)} as a head of their own. */
  public ClassifierHead slice(int from, int to) {
    if (from < 0 || to > classes() || from >= to) {
      throw GraftException.invalid("rows [%d, %d) of a head with %d classes", from, to, classes());
    }
    return new ClassifierHead(
        labels.subList(from, to),
        featureDim,
        Arrays.copyOfRange(weight, from * featureDim, to * featureDim),
        Arrays.copyOfRange(bias, from, to));
  }

  /**
   * This head's rows followed by {@code more}'s rows.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when the feature dimensions differ or a label
   *     repeats
   */
  public ClassifierHead append(ClassifierHead more) {
    if (more.featureDim != featureDim) {
      throw GraftException.invalid(
          "new rows have %d features, the head has %d", more.featureDim, featureDim);
    }
    List<String> all = new java.util.ArrayList<>(labels);
    all.addAll(more.labels);
    float[] w = Arrays.copyOf(weight, weight.length + more.weight.length);
    System.arraycopy(more.weight, 0, w, weight.length, more.weight.length);
    float[] b = Arrays.copyOf(bias, bias.length + more.bias.length);
    System.arraycopy(more.bias, 0, b, bias.length, more.bias.length);
    List<String> labelCopy = List.copyOf(all);
    validate(labelCopy, featureDim, w, b);
    return new ClassifierHead(labelCopy, featureDim, w, b);
  }

  /**
   * A copy whose weight rows {@code [from, C)} are multiplied by {@code factor} (in double, rounded
   * once to float); the bias is unchanged.
   */
  ClassifierHead scaleRowsFrom(int from, double factor) {
    float[] w = weight.clone();
    for (int i = from * featureDim; i < w.length; i++) {
      w[i] = (float) (factor * w[i]);
    }
    validate(labels, featureDim, w, bias);
    return new ClassifierHead(labels, featureDim, w, bias);
  }

  /** Whether both heads have the same labels, dimension, weights and biases (bit for bit). */
  @Override
  public boolean equals(Object o) {
    return o instanceof ClassifierHead h
        && featureDim == h.featureDim
        && labels.equals(h.labels)
        && Arrays.equals(weight, h.weight)
        && Arrays.equals(bias, h.bias);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * labels.hashCode() + Arrays.hashCode(weight)) + Arrays.hashCode(bias);
  }

  @Override
  public String toString() {
    return "ClassifierHead[" + classes() + "x" + featureDim + " " + labels + "]";
  }

  private static List<String> splitLabels(String classes) {
    if (classes.isBlank()) {
      return List.of();
    }
    return Arrays.stream(classes.split(",", -1)).map(String::strip).toList();
  }

  private static void validate(List<String> labels, int featureDim, float[] weight, float[] bias) {
    if (labels.isEmpty()) {
      throw GraftException.invalid("head has no classes");
    }
    if (featureDim <= 0) {
      throw GraftException.invalid("feature dimension must be positive, is %d", featureDim);
    }
    Set<String> seen = new HashSet<>();
    for (String label : labels) {
      if (label.isBlank() || label.contains(",") || !label.equals(label.strip())) {
        throw GraftException.invalid(
            "label '%s' is not allowed: labels are non-empty, without commas or surrounding spaces",
            label);
      }
      if (!seen.add(label)) {
        throw GraftException.invalid("label '%s' appears twice", label);
      }
    }
    long expected = (long) labels.size() * featureDim;
    if (weight.length != expected) {
      throw GraftException.invalid(
          "%d labels x %d features need %d weights, got %d",
          labels.size(), featureDim, expected, weight.length);
    }
    if (bias.length != labels.size()) {
      throw GraftException.invalid("head has %d labels but %d biases", labels.size(), bias.length);
    }
    requireFinite(weight, "weight", featureDim);
    requireFinite(bias, "bias", 1);
  }

  private static void requireFinite(float[] values, String what, int rowLength) {
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw GraftException.invalid(
            "%s of class %d is not finite (%s)", what, i / rowLength, values[i]);
      }
    }
  }
}
