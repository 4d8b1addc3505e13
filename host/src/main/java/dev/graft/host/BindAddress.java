package dev.graft.host;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A connector address of the form {@code http://host:port}. Port 0 asks for an ephemeral port.
 *
 * @param host the host name or literal as written, lower-cased; IPv6 literals keep their brackets
 * @param port the port, 0 to 65535
 */
public record BindAddress(String host, int port) {

  private static final int DEFAULT_HTTP_PORT = 80;

  public BindAddress {
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("host is empty");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  /**
   * Parses {@code http://host[:port]} (port 80 when absent).
   *
   * @throws IllegalArgumentException naming the text when it is not such an address
   */
  public static BindAddress parse(String text) {
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a URL: '" + text + "'", e);
    }
    if (!"http".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("expected http://host:port, got '" + text + "'");
    }
    String path = uri.getRawPath();
    if (uri.getHost() == null
        || uri.getRawQuery() != null
        || uri.getRawUserInfo() != null
        || (path != null && !path.isEmpty() && !path.equals("/"))) {
      throw new IllegalArgumentException("expected http://host:port, got '" + text + "'");
    }
    int port = uri.getPort() == -1 ? DEFAULT_HTTP_PORT : uri.getPort();
    if (port > 65535) {
      throw new IllegalArgumentException("port out of range in '" + text + "'");
    }
    return new BindAddress(uri.getHost().toLowerCase(Locale.ROOT), port);
  }

  /** The same host with another port, e.g. the one the operating system chose for port 0. */
  public BindAddress withPort(int newPort) {
    return new BindAddress(host, newPort);
  }

  /** The address to bind, without IPv6 brackets; resolves the host name. */
  public InetSocketAddress toSocketAddress() {
    String bare =
        host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return new InetSocketAddress(bare, port);
  }

  /** The address as {@code http://host:port}. */
  public String url() {
    return "http://" + host + ":" + port;
  }

  @Override
  public String toString() {
    return url();
  }
}
