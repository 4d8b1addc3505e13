package dev.graft.plugin.head.http;

import dev.graft.onnx.head.Alignment;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.plugin.head.HeadStep;
import dev.graft.plugin.head.HeadVersion;
import dev.graft.plugin.head.ModelHead;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The JSON shapes of the heads section of docs/http-api.md, as ordered maps for gson. */
final class HeadViews {
  private HeadViews() {}

  /** {@code GET /models/{m}/heads/{h}}: the current version. */
  static Map<String, Object> describe(ModelHead head, HeadVersion v, String weights) {
    ClassifierHead c = v.classifier();
    Map<String, Object> out = identity(head, v, weights);
    out.put("features", head.settings().features());
    out.put("featureDim", c.featureDim());
    out.put("output", head.settings().output());
    out.put("classes", c.classes());
    out.put("labels", c.labels());
    out.put("norms", Arrays.stream(c.rowNorms()).boxed().toList());
    out.put("lastStep", v.step().map(s -> step(v, s)).orElse(null));
    out.put(
        "steps",
        head.lineage(v).stream()
            .filter(x -> x.step().isPresent())
            .map(x -> gamma(x, x.step().get()))
            .toList());
    return out;
  }

  /** The answer to an add-classes request: the step and the new version. */
  static Map<String, Object> added(ModelHead head, HeadVersion v, String weights) {
    HeadStep s = v.step().orElseThrow();
    Map<String, Object> out = identity(head, v, weights);
    out.put("parent", v.parent());
    out.putAll(step(v, s));
    out.put("classes", v.classifier().classes());
    out.put("labels", v.classifier().labels());
    out.put("normsBefore", s.normsBefore());
    out.put("normsAfter", s.normsAfter());
    return out;
  }

  /** The answer to a rollback. */
  static Map<String, Object> rolledBack(
      ModelHead head, HeadVersion from, HeadVersion to, String weights) {
    Map<String, Object> out = identity(head, to, weights);
    out.put("rolledBackFrom", from.version());
    out.put("classes", to.classifier().classes());
    out.put("labels", to.classifier().labels());
    return out;
  }

  /** {@code GET /models/{m}/heads/{h}/history}. */
  static Map<String, Object> history(ModelHead head, HeadVersion current) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", head.name());
    out.put("model", head.model());
    out.put("current", current.version());
    out.put("kept", head.settings().history());
    out.put(
        "versions",
        head.history().stream()
            .map(
                v -> {
                  Map<String, Object> e = new LinkedHashMap<>();
                  e.put("version", v.version());
                  e.put("parent", v.parent() == 0 ? null : v.parent());
                  e.put("tag", v.tag());
                  e.put("current", v.version() == current.version());
                  e.put("created", v.created().toString());
                  e.put("classes", v.classifier().classes());
                  e.put("step", v.step().map(s -> step(v, s)).orElse(null));
                  return e;
                })
            .toList());
    return out;
  }

  private static Map<String, Object> identity(ModelHead head, HeadVersion v, String weights) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", head.name());
    out.put("model", head.model());
    out.put("version", v.version());
    out.put("tag", v.tag());
    out.put("weights", weights);
    return out;
  }

  /** A step: the old/new split and the alignment. */
  private static Map<String, Object> step(HeadVersion v, HeadStep s) {
    Alignment a = s.alignment();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("version", v.version());
    out.put("input", s.input().name().toLowerCase(Locale.ROOT));
    out.put("align", s.mode().wireName());
    out.put("oldClasses", s.oldLabels().size());
    out.put("newClasses", s.newLabels().size());
    out.put("oldLabels", s.oldLabels());
    out.put("newLabels", s.newLabels());
    out.put("gamma", a.gamma());
    out.put("applied", a.applied());
    out.put("meanOldNorm", a.meanOldNorm());
    out.put("meanNewNorm", a.meanNewNorm());
    return out;
  }

  private static Map<String, Object> gamma(HeadVersion v, HeadStep s) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("version", v.version());
    out.put("gamma", s.alignment().gamma());
    out.put("applied", s.alignment().applied());
    out.put("oldClasses", s.oldLabels().size());
    out.put("newClasses", s.newLabels().size());
    return out;
  }
}
