package dev.graft.host.testplugin;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.HashMap;
import java.util.Map;

/**
 * Owns {@code /probe}: reports the configuration system properties as they were when the host
 * constructed it, which is what a real plugin would read at start-up.
 */
public final class ConfigProbeHandler implements RequestHandler<Map<String, String>> {

  private final Map<String, String> seenAtConstruction = new HashMap<>();

  public ConfigProbeHandler() {
    record("configFile", "graft.config.file");
    record("modelStore", "graft.config.model_store");
    record("probeKey", "graft.config.probe_key");
    record("inferenceAddress", "graft.config.inference_address");
  }

  private void record(String name, String property) {
    String value = System.getProperty(property);
    seenAtConstruction.put(name, value == null ? "<unset>" : value);
  }

  @Override
  public boolean acceptInboundMessage(Object msg) {
    return PathMatch.owns(msg, "/probe");
  }

  @Override
  public Map<String, String> handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    return seenAtConstruction;
  }
}
