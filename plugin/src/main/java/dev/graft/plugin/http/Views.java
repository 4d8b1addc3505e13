package dev.graft.plugin.http;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.WeightLayer;
import dev.graft.plugin.model.ServedModel;
import dev.graft.plugin.patch.Adapter;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON shapes of docs/http-api.md, as ordered maps for gson. */
final class Views {
  private Views() {}

  /** An entry of {@code GET /models}. */
  static Map<String, Object> summary(ServedModel m) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("modelName", m.name());
    v.put("modelUrl", m.url());
    v.put("status", ServedModel.READY);
    return v;
  }

  /** The element of {@code GET /models/{m}}. */
  static Map<String, Object> describe(ServedModel m) {
    ModelAdapters.Snapshot snapshot = m.adapters().snapshot();
    Map<String, Object> v = summary(m);
    v.put("engine", m.settings().engine());
    v.put("translator", m.settings().translator().orElse(null));
    v.put("inputs", specs(m.runtime().inputs()));
    v.put("outputs", specs(m.outputs()));
    v.put("weights", m.weightsLabel());
    v.put("adapters", snapshot.adapters().stream().map(Views::adapter).toList());
    v.put("heads", m.head().map(h -> List.of(h.name())).orElse(List.of()));
    v.put("layers", m.adapters().base().layers().stream().map(Views::layer).toList());
    m.ofq().ifPresent(o -> v.put("ofq", o.view()));
    v.putAll(m.runtime().describe());
    v.put("batchSize", m.settings().batchSize());
    v.put("maxBatchDelay", m.settings().maxBatchDelay());
    return v;
  }

  /** An adapter object. */
  static Map<String, Object> adapter(Adapter a) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", a.name());
    v.put("model", a.model());
    v.put("src", a.source().src());
    v.put("alpha", a.alpha());
    v.put("attached", a.attached());
    v.put("transfer", a.transfer());
    v.put("layers", a.signature().layers());
    v.put("tensors", a.signature().deltas().stream().map(FloatTensor::name).toList());
    v.put("bytes", a.source().bytes());
    v.put("fingerprint", a.signature().fingerprint().weightsSha256());
    v.put("corruption", a.signature().corruption());
    v.put("sha256", a.source().sha256());
    return v;
  }

  static List<Map<String, Object>> specs(List<TensorSpec> specs) {
    List<Map<String, Object>> list = new ArrayList<>();
    for (TensorSpec s : specs) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("name", s.name());
      v.put("datatype", s.datatype());
      v.put("shape", s.shape());
      list.add(v);
    }
    return list;
  }

  private static Map<String, Object> layer(WeightLayer l) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", l.name());
    v.put("opType", l.opType());
    v.put("weight", l.weight());
    v.put("bias", l.bias());
    return v;
  }

  static Map<String, Object> status(String message) {
    return Map.of("status", message);
  }
}
