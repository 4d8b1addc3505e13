package dev.graft.plugin.http;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.kserve.InferRequest;
import dev.graft.plugin.kserve.InferResponse;
import dev.graft.plugin.kserve.KServeInference;
import dev.graft.plugin.kserve.ServerMetadata;
import dev.graft.plugin.patch.RequestWeights;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The KServe v2 REST endpoints ({@code /v2}, {@code /v2/health/...}, {@code /v2/models/{m}[/
 * versions/{v}][/ready|/infer]}) over {@link KServeInference}. Stateless; thread safe.
 */
final class V2Endpoints {
  private final KServeInference kserve;

  V2Endpoints(KServeInference kserve) {
    this.kserve = kserve;
  }

  /** {@code GET /v2}. */
  HttpReply server() {
    ServerMetadata s = kserve.serverMetadata();
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", s.name());
    v.put("version", s.version());
    v.put("extensions", s.extensions());
    return HttpReply.ok(v);
  }

  /** {@code GET /v2/health/live}. */
  HttpReply live() {
    return KServeReplies.health("live", kserve.live());
  }

  /** {@code GET /v2/health/ready}. */
  HttpReply ready() {
    return KServeReplies.health("ready", kserve.ready());
  }

  /** {@code GET /v2/models/{m}[/versions/{v}]}. */
  HttpReply metadata(String model, String version) {
    return KServeReplies.metadata(kserve.modelMetadata(model, version));
  }

  /** {@code GET /v2/models/{m}[/versions/{v}]/ready}: 200, or 503 while shutting down. */
  HttpReply modelReady(String model, String version) {
    boolean ready = kserve.modelReady(model, version);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", model);
    v.put("ready", ready);
    return HttpReply.json(
        ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, v);
  }

  /** {@code POST /v2/models/{m}[/versions/{v}]/infer}, JSON or binary. */
  HttpReply infer(String model, String version, HttpCall call) {
    InferRequest request = KServeCodec.read(model, version, call.body(), binaryHeaderLength(call));
    InferResponse response = kserve.infer(request, transportAdapters(call));
    return KServeReplies.infer(response, request);
  }

  /** The adapter selections of the query and the header (for any inference endpoint). */
  static List<String> transportAdapters(HttpCall call) {
    List<String> given = new ArrayList<>();
    call.param(RequestWeights.PARAMETER).ifPresent(given::add);
    String header = call.headers().get(RequestWeights.HEADER);
    if (header != null) {
      given.add(header);
    }
    return given;
  }

  private static int binaryHeaderLength(HttpCall call) {
    String text = call.headers().get(KServeCodec.HEADER_LENGTH);
    if (text == null) {
      return -1;
    }
    try {
      int n = Integer.parseInt(text.trim());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw GraftException.invalid(
        "%s must be a non-negative integer, got '%s'", KServeCodec.HEADER_LENGTH, text);
  }
}
