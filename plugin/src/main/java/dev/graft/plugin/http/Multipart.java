package dev.graft.plugin.http;

import dev.graft.onnx.GraftException;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import java.io.IOException;

/** Extracts the file of a {@code multipart/form-data} body (copied bytes, on a worker). */
final class Multipart {
  private Multipart() {}

  /**
   * The bytes of the first file part, whatever its field name.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when the body is malformed or has no file part
   */
  static byte[] firstFile(HttpCall call) {
    DefaultFullHttpRequest request =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1,
            HttpMethod.POST,
            call.path(),
            Unpooled.wrappedBuffer(call.body()),
            new DefaultHttpHeaders().set(call.headers()),
            new DefaultHttpHeaders());
    HttpPostRequestDecoder decoder = null;
    try {
      decoder = new HttpPostRequestDecoder(new DefaultHttpDataFactory(false), request);
      for (InterfaceHttpData data : decoder.getBodyHttpDatas()) {
        if (data instanceof FileUpload file) {
          return file.get();
        }
      }
      throw GraftException.invalid("the multipart body has no file part");
    } catch (HttpPostRequestDecoder.ErrorDataDecoderException
        | HttpPostRequestDecoder.NotEnoughDataDecoderException
        | IllegalArgumentException
        | IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, "malformed multipart body: " + e.getMessage(), e);
    } finally {
      if (decoder != null) {
        decoder.destroy();
      }
      request.release();
    }
  }
}
