package dev.graft.onnx.rws;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Computes patched weights {@code W = W_base + Σ α_c · RWS_c}. The base is never modified:
 * detaching is taking the base again, so it is exact. The sum is accumulated in float64 in the
 * order of the terms, then added to the base in float32, so the same terms in the same order give
 * the same bits offline and online.
 */
public final class RwsPatch {
  private RwsPatch() {}

  /** One signature with its scale. */
  public record Term(RwsSignature signature, double alpha) {
    public Term {
      if (!Double.isFinite(alpha)) {
        throw GraftException.invalid(
            "alpha of %s must be a finite number, got %s", signature.name(), alpha);
      }
    }
  }

  /**
   * The patched value of every tensor that at least one term touches, in first-touched order.
   *
   * @param base looks up a base tensor by name; must throw {@link GraftException} for an unknown
   *     name
   */
  public static List<FloatTensor> apply(Function<String, FloatTensor> base, List<Term> terms) {
    Map<String, double[]> sums = new LinkedHashMap<>();
    Map<String, FloatTensor> bases = new LinkedHashMap<>();
    for (Term term : terms) {
      for (FloatTensor delta : term.signature().deltas()) {
        FloatTensor b = bases.computeIfAbsent(delta.name(), base);
        if (!b.sameShape(delta)) {
          throw GraftException.precondition(
              "signature %s: tensor %s has shape %s, the model's has %s",
              term.signature().name(), delta.name(), delta.shapeString(), b.shapeString());
        }
        double[] acc = sums.computeIfAbsent(delta.name(), k -> new double[b.data().length]);
        float[] d = delta.data();
        for (int i = 0; i < acc.length; i++) {
          acc[i] += term.alpha() * d[i];
        }
      }
    }
    List<FloatTensor> out = new ArrayList<>(sums.size());
    for (Map.Entry<String, double[]> e : sums.entrySet()) {
      FloatTensor b = bases.get(e.getKey());
      float[] w = b.data();
      double[] acc = e.getValue();
      float[] patched = new float[w.length];
      for (int i = 0; i < w.length; i++) {
        patched[i] = w[i] + (float) acc[i];
      }
      out.add(b.withData(patched));
    }
    return out;
  }
}
