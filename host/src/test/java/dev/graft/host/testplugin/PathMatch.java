package dev.graft.host.testplugin;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;

/** Path matching shared by the test handlers. */
public final class PathMatch {
  private PathMatch() {}

  /** Whether {@code msg} is a request for {@code prefix} or a sub-path of it. */
  public static boolean owns(Object msg, String prefix) {
    if (!(msg instanceof FullHttpRequest req)) {
      return false;
    }
    String path = new QueryStringDecoder(req.uri()).path();
    return path.equals(prefix) || path.startsWith(prefix + "/");
  }
}
