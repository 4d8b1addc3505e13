package dev.graft.plugin.image;

/**
 * Bilinear resampling of one float plane with pixel centres aligned ({@code src = (dst + 0.5) *
 * scale - 0.5}, clamped at the borders). Equal sizes give the input back unchanged.
 */
final class Bilinear {
  private Bilinear() {}

  static float[] resize(float[] src, int sw, int sh, int dw, int dh) {
    float[] out = new float[dw * dh];
    double sx = (double) sw / dw;
    double sy = (double) sh / dh;
    for (int y = 0; y < dh; y++) {
      double fy = clamp((y + 0.5) * sy - 0.5, sh - 1);
      int y0 = (int) fy;
      int y1 = Math.min(y0 + 1, sh - 1);
      double wy = fy - y0;
      for (int x = 0; x < dw; x++) {
        double fx = clamp((x + 0.5) * sx - 0.5, sw - 1);
        int x0 = (int) fx;
        int x1 = Math.min(x0 + 1, sw - 1);
        double wx = fx - x0;
        double top = src[y0 * sw + x0] * (1 - wx) + src[y0 * sw + x1] * wx;
        double bottom = src[y1 * sw + x0] * (1 - wx) + src[y1 * sw + x1] * wx;
        out[y * dw + x] = (float) (top * (1 - wy) + bottom * wy);
      }
    }
    return out;
  }

  private static double clamp(double v, int max) {
    return v < 0 ? 0 : Math.min(v, max);
  }
}
