package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** Assertions shared by the end-to-end tests. */
public final class Checks {
  private Checks() {}

  /**
   * Asserts a management or {@code /predictions} error: the status, {@code x-request-id}, and the
   * body {@code {"code": status, "type": "...", "message": "..."}}.
   */
  public static JsonObject assertError(GraftClient.Response r, int status, String what) {
    assertThat(r.status()).as("%s: status of %s", what, r).isEqualTo(status);
    assertThat(r.header("x-request-id")).as("%s: x-request-id header", what).isPresent();
    JsonObject body = r.jsonObject();
    assertThat(body.has("code") && body.get("code").getAsInt() == status)
        .as("%s: error body %s has code %d", what, body, status)
        .isTrue();
    assertThat(text(body, "type")).as("%s: error type in %s", what, body).isNotBlank();
    assertThat(text(body, "message")).as("%s: error message in %s", what, body).isNotBlank();
    return body;
  }

  /** Asserts a KServe v2 error: the status and a body {@code {"error": "..."}}. */
  public static void assertV2Error(GraftClient.Response r, int status, String what) {
    assertThat(r.status()).as("%s: status of %s", what, r).isEqualTo(status);
    assertThat(r.header("x-request-id")).as("%s: x-request-id header", what).isPresent();
    assertThat(text(r.jsonObject(), "error")).as("%s: v2 error body %s", what, r).isNotBlank();
  }

  /** Asserts a 200 answer, showing the body otherwise. */
  public static GraftClient.Response assertOk(GraftClient.Response r, String what) {
    assertThat(r.status()).as("%s answered %s", what, r).isEqualTo(200);
    return r;
  }

  /**
   * Asserts two float arrays hold the same bits; the message names the first difference instead of
   * printing thousands of values.
   */
  public static void assertBitwiseEqual(float[] actual, float[] expected, String what) {
    assertThat(actual.length).as("%s: number of values", what).isEqualTo(expected.length);
    for (int i = 0; i < actual.length; i++) {
      if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
        int diffs = 0;
        for (int j = i; j < actual.length; j++) {
          diffs +=
              Float.floatToRawIntBits(actual[j]) != Float.floatToRawIntBits(expected[j]) ? 1 : 0;
        }
        throw new AssertionError(
            String.format(
                "%s: %d of %d values differ; first at index %d: %s, expected %s",
                what, diffs, actual.length, i, actual[i], expected[i]));
      }
    }
  }

  /** Whether any value differs. */
  public static boolean differs(float[] a, float[] b) {
    if (a.length != b.length) {
      return true;
    }
    for (int i = 0; i < a.length; i++) {
      if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
        return true;
      }
    }
    return false;
  }

  /** The largest absolute difference between two equally long arrays. */
  public static double maxDifference(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError(a.length + " values vs " + b.length);
    }
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
    }
    return worst;
  }

  /** Share of rows of {@code [n, classes]} logits whose argmax is the label. */
  public static double accuracy(float[] logits, int classes, int[] labels) {
    int rows = logits.length / classes;
    int correct = 0;
    for (int r = 0; r < rows; r++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (logits[r * classes + c] > logits[r * classes + best]) {
          best = c;
        }
      }
      correct += best == labels[r] ? 1 : 0;
    }
    return (double) correct / rows;
  }

  private static String text(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }
}
