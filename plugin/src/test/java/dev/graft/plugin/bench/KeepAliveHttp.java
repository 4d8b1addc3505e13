package dev.graft.plugin.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal blocking HTTP/1.1 client for the load generator: one keep-alive connection per calling
 * thread, the request written and the response read on that thread. The JDK's {@code HttpClient}
 * hands every exchange to its selector thread and back, which on a 2-core machine shared with the
 * server costs more CPU per request than the model's inference; this client leaves the cores to the
 * server. Understands exactly what the host sends: a status line, headers and a {@code
 * Content-Length} body. Thread safe; {@link #close} closes every connection.
 */
final class KeepAliveHttp implements AutoCloseable {
  /** A response: status, headers (lower-case names) and body. */
  record Response(int status, Map<String, String> headers, byte[] body) {}

  private final String host;
  private final int port;
  private final List<Connection> all = new ArrayList<>(); // guarded by itself
  private final ThreadLocal<Connection> mine = new ThreadLocal<>();

  KeepAliveHttp(URI base) {
    this.host = base.getHost();
    this.port = base.getPort();
  }

  /** {@code POST path} with the given headers (Content-Length is added). */
  Response post(String path, Map<String, String> headers, byte[] body) throws IOException {
    Connection c = mine.get();
    if (c == null || c.socket.isClosed()) {
      c = new Connection(host, port);
      synchronized (all) {
        all.add(c);
      }
      mine.set(c);
    }
    try {
      return c.exchange(path, headers, body, host + ":" + port);
    } catch (IOException | RuntimeException e) {
      c.socket.close(); // the next call opens a new connection
      throw e;
    }
  }

  @Override
  public void close() {
    synchronized (all) {
      for (Connection c : all) {
        try {
          c.socket.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
      all.clear();
    }
  }

  private static final class Connection {
    final Socket socket;
    final OutputStream out;
    final InputStream in;

    Connection(String host, int port) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), 10_000);
      socket.setSoTimeout(120_000);
      out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
      in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    }

    Response exchange(String path, Map<String, String> headers, byte[] body, String hostHeader)
        throws IOException {
      StringBuilder head = new StringBuilder();
      head.append("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(hostHeader);
      head.append("\r\nContent-Length: ").append(body.length).append("\r\n");
      headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
      out.flush();
      String status = line();
      String[] parts = status.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP response: " + status);
      }
      Map<String, String> got = new LinkedHashMap<>();
      for (String l = line(); !l.isEmpty(); l = line()) {
        int colon = l.indexOf(':');
        got.put(
            l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
      String length = got.get("content-length");
      if (length == null) {
        throw new IOException("response without Content-Length");
      }
      byte[] data = in.readNBytes(Integer.parseInt(length));
      if (data.length != Integer.parseInt(length)) {
        throw new EOFException("response body cut short");
      }
      if ("close".equalsIgnoreCase(got.get("connection"))) {
        socket.close();
      }
      return new Response(Integer.parseInt(parts[1]), got, data);
    }

    private String line() throws IOException {
      StringBuilder b = new StringBuilder();
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new EOFException("connection closed by the server");
        }
        if (c != '\r') {
          b.append((char) c);
        }
      }
      return b.toString();
    }
  }
}
