package dev.graft.plugin.security;

import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.http.HttpErrors;
import dev.graft.plugin.http.HttpReply;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Bearer-token protection of the management endpoints ({@code /models} and everything below it:
 * models, adapters, heads). Inference ({@code /predictions}, {@code /v2}) and health are never
 * protected.
 *
 * <p>When {@code management_token} (or the environment variable {@code SERVING_MANAGEMENT_TOKEN})
 * is set, a management request must carry {@code Authorization: Bearer <token>}; otherwise it is
 * answered 401 with {@code WWW-Authenticate: Bearer}. The comparison is constant-time: both sides
 * are hashed with SHA-256 and the digests compared with {@link MessageDigest#isEqual}, so neither
 * the token's content nor its length leaks through timing. Cheap enough for the event loop.
 * Immutable and thread safe.
 */
public final class ManagementAuth {
  /** The configuration key of the token. */
  public static final String TOKEN = "management_token";

  private static final Logger LOG = Logger.getLogger(ManagementAuth.class.getName());
  private static final String BEARER = "bearer ";

  private final byte[] tokenDigest; // null: management is open

  private ManagementAuth(byte[] tokenDigest) {
    this.tokenDigest = tokenDigest;
  }

  /** The protection a configuration asks for (none when the token is unset or blank). */
  public static ManagementAuth of(GraftConfig config) {
    String token = config.properties().getOrDefault(TOKEN, "").trim();
    return new ManagementAuth(token.isEmpty() ? null : sha256(token));
  }

  /** Whether management requests need a token. */
  public boolean required() {
    return tokenDigest != null;
  }

  /** Whether {@code path} is a management path. */
  public static boolean isManagement(String path) {
    return path.equals("/models") || path.startsWith("/models/");
  }

  /**
   * The 401 reply for a request that may not reach {@code path}, or empty when it may.
   *
   * @param path the decoded request path
   * @param headers the request headers
   */
  public Optional<HttpReply> refusal(String path, HttpHeaders headers) {
    if (tokenDigest == null || !isManagement(path)) {
      return Optional.empty();
    }
    String presented = bearer(headers.get(HttpHeaderNames.AUTHORIZATION));
    if (presented != null && MessageDigest.isEqual(tokenDigest, sha256(presented))) {
      return Optional.empty();
    }
    String challenge =
        presented == null
            ? "Bearer realm=\"graft\""
            : "Bearer realm=\"graft\", error=\"invalid_token\"";
    String message =
        presented == null
            ? "management endpoints need Authorization: Bearer <management_token>"
            : "the bearer token is not valid for the management endpoints";
    return Optional.of(
        HttpErrors.reply(path, HttpResponseStatus.UNAUTHORIZED, message)
            .withHeader(HttpHeaderNames.WWW_AUTHENTICATE.toString(), challenge));
  }

  /**
   * Logs a warning when the management address accepts connections from other machines while no
   * token is set (anyone who reaches the port could then change the models).
   */
  public void warnIfExposed(GraftConfig config) {
    if (required()) {
      return;
    }
    String address =
        config
            .properties()
            .getOrDefault(
                "management_address",
                config.properties().getOrDefault("inference_address", "http://127.0.0.1:8080"));
    if (!isLoopback(address)) {
      LOG.warning(
          "The management API listens on "
              + address
              + ", which is not a loopback address, and management_token is not set: anyone who"
              + " can reach it can change or remove models. Set management_token (or"
              + " SERVING_MANAGEMENT_TOKEN) to require a bearer token.");
    }
  }

  /** Whether a DJL-style address ({@code http://host:port}, or {@code host:port}) is loopback. */
  static boolean isLoopback(String address) {
    String text = address.trim();
    String host;
    try {
      host = URI.create(text.contains("://") ? text : "http://" + text).getHost();
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (host == null || host.isEmpty()) {
      return false;
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      for (InetAddress a : InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException | SecurityException e) {
      return false;
    }
  }

  /** The token of an {@code Authorization: Bearer <token>} header, or null. */
  private static String bearer(String header) {
    if (header == null) {
      return null;
    }
    String h = header.trim();
    if (h.length() <= BEARER.length()
        || !h.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
      return null;
    }
    return h.substring(BEARER.length()).trim();
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
