package dev.graft.plugin.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a {@link SplitOrtModelRuntime} lays out its weight states and why, as clients see it in
 * {@code GET /models/{m}}. Immutable.
 *
 * @param mode the configured {@link SplitOptions.Mode}
 * @param split whether new weight states are a stem plus the shared body
 * @param cut the tensors crossing from stem to body (empty when not split)
 * @param stemLayers the weight layers whose tensors a patch may replace by rebuilding the stem only
 * @param reason why this layout was chosen, in words
 * @param stemBuildMs measured time to build the base stem session, or -1 if not measured
 * @param bodyBuildMs measured time to build the body session, or -1
 * @param wholeBuildMs measured time to build a whole-model session, or -1
 * @param mappedBytes bytes of base weights served from memory-mapped files
 * @param replans how many times a patch moved the cut deeper since load
 */
public record SplitLayout(
    SplitOptions.Mode mode,
    boolean split,
    List<String> cut,
    List<String> stemLayers,
    String reason,
    double stemBuildMs,
    double bodyBuildMs,
    double wholeBuildMs,
    long mappedBytes,
    int replans) {

  public SplitLayout {
    cut = List.copyOf(cut);
    stemLayers = List.copyOf(stemLayers);
  }

  /** The same layout after the cut moved. */
  SplitLayout replanned(List<String> newCut, List<String> newStemLayers, long newMappedBytes) {
    return new SplitLayout(
        mode,
        split,
        newCut,
        newStemLayers,
        reason,
        stemBuildMs,
        bodyBuildMs,
        wholeBuildMs,
        newMappedBytes,
        replans + 1);
  }

  /** The JSON object of {@code GET /models/{m}}'s {@code layout} field. */
  public Map<String, Object> toMap() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("mode", mode.name().toLowerCase(java.util.Locale.ROOT));
    v.put("split", split);
    v.put("cut", cut);
    v.put("stemLayers", stemLayers);
    v.put("reason", reason);
    v.put("stemBuildMs", round(stemBuildMs));
    v.put("bodyBuildMs", round(bodyBuildMs));
    v.put("wholeBuildMs", round(wholeBuildMs));
    v.put("mappedBytes", mappedBytes);
    v.put("replans", replans);
    return v;
  }

  private static double round(double ms) {
    return Math.round(ms * 100) / 100.0;
  }
}
