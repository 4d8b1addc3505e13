package dev.graft.host.internal;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Where the answer to one request goes: the channel, the request's protocol version and whether the
 * connection stays open afterwards. Writes are safe from any thread (Netty hands them to the event
 * loop), but callers write at most one response per request.
 *
 * @param ctx the context of the dispatching handler
 * @param version the request's protocol version, used for the response
 * @param keepAlive whether the connection stays open after the response
 */
public record Reply(ChannelHandlerContext ctx, HttpVersion version, boolean keepAlive) {

  /** The header carrying the request id on every response. */
  public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");

  private static final Logger LOG = Logger.getLogger(Reply.class.getName());

  // Gson instances are immutable and thread-safe.
  private static final Gson GSON =
      new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();

  /** Sends {@code value} serialised by Gson as a 200 JSON body; a value Gson rejects gives 500. */
  public void ok(Object value) {
    String json;
    try {
      json = GSON.toJson(value);
    } catch (RuntimeException | StackOverflowError e) {
      LOG.log(Level.WARNING, "Cannot serialise a " + value.getClass().getName() + " to JSON", e);
      error(ErrorBody.internal(e));
      return;
    }
    json(HttpResponseStatus.OK, json);
  }

  /** Sends an error body with its status code. */
  public void error(ErrorBody body) {
    json(HttpResponseStatus.valueOf(body.code()), body.toJson());
  }

  /** Sends {@code json} with {@code status}. */
  public void json(HttpResponseStatus status, String json) {
    send(ctx, jsonResponse(version, status, json, keepAlive), keepAlive);
  }

  /** Builds a JSON response with content type, length and connection headers set. */
  public static FullHttpResponse jsonResponse(
      HttpVersion version, HttpResponseStatus status, String json, boolean keepAlive) {
    ByteBuf content = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(version, status, content);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    HttpUtil.setContentLength(response, content.readableBytes());
    HttpUtil.setKeepAlive(response, keepAlive);
    return response;
  }

  /** Writes and flushes {@code response}, closing the connection afterwards unless keep-alive. */
  public static void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
    ChannelFuture future = ctx.writeAndFlush(response);
    if (!keepAlive) {
      future.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
