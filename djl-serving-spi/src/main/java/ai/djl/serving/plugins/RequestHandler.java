package ai.djl.serving.plugins;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;

/**
 * The request-handler contract of DJL Serving 0.36 plugins, reproduced with the same binary
 * signature so that a plugin compiled against it links against the real DJL Serving at run time.
 *
 * <p>Handlers run on the Netty event loop and must not block there. {@link #handleRequest} returns
 * {@code null} when the handler wrote the response itself, a {@link
 * java.util.concurrent.CompletableFuture} for asynchronous work, or any other object, which the
 * server sends as a 200 JSON body.
 *
 * @param <T> the result type of {@link #handleRequest}
 */
public interface RequestHandler<T> {

  /**
   * Whether this handler owns {@code msg}; return false for every path the plugin does not serve.
   */
  default boolean acceptInboundMessage(Object msg) {
    return true;
  }

  /**
   * Handles one request.
   *
   * @param ctx the channel context
   * @param req the full request, owned by the caller (do not release it)
   * @param decoder the decoded URI
   * @param segments {@code decoder.path().split("/")}, so {@code segments[0]} is the empty string
   * @return {@code null}, a future, or a value sent as 200 JSON
   */
  T handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments);
}
