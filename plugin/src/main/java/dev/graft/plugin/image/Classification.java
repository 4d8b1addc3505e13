package dev.graft.plugin.image;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;

/**
 * One class of a top-k answer, as DJL's image classification returns it.
 *
 * @param className the synset label (or the index)
 * @param probability the softmax probability
 */
public record Classification(String className, double probability) {

  /**
   * The {@code k} most probable classes of one row of logits, most probable first (ties keep index
   * order). Softmax is computed in double with the maximum subtracted.
   */
  public static List<Classification> topK(float[] logits, int k, IntFunction<String> label) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      p[i] = Math.exp(logits[i] - max);
      sum += p[i];
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < logits.length; i++) {
      p[i] /= sum;
      order.add(i);
    }
    order.sort(Comparator.comparingDouble((Integer i) -> -p[i]));
    List<Classification> top = new ArrayList<>();
    for (int i = 0; i < Math.min(k, order.size()); i++) {
      int idx = order.get(i);
      top.add(new Classification(label.apply(idx), p[idx]));
    }
    return top;
  }
}
