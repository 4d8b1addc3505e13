package dev.graft.plugin.config;

import dev.graft.onnx.GraftException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Resolves the model and adapter references of management requests ({@code url=}, {@code src=}) to
 * files, confined to the model store.
 *
 * <p>A reference is a path (relative paths resolve against the store) or a {@code file:} URI. It
 * must stay inside the store after normalisation ({@code ..} cannot escape) and after resolving
 * symbolic links (a link inside the store that points elsewhere is refused). Anything else, and any
 * other URL scheme, is refused unless the whole reference matches {@code model_url_pattern}; a
 * reference with a {@code ..} segment (also percent-encoded in a {@code file:} URI) never gets that
 * exemption, so a pattern such as {@code /data/models/.*} cannot be escaped with {@code
 * /data/models/../../etc}. Immutable and thread safe.
 */
public final class ModelStore {
  private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:.*");

  private final Path root;
  private final Pattern urlPattern;

  /**
   * @param root the store folder (need not exist yet)
   * @param urlPattern references matching it bypass confinement; may be empty
   */
  public ModelStore(Path root, Optional<Pattern> urlPattern) {
    this.root = root.toAbsolutePath().normalize();
    this.urlPattern = urlPattern.orElse(null);
  }

  public static ModelStore of(GraftConfig config) {
    return new ModelStore(config.modelStore(), config.modelUrlPattern());
  }

  /** The absolute, normalised store folder. */
  public Path root() {
    return root;
  }

  /**
   * Resolves a reference to a local path. The file need not exist (callers report 404 for a missing
   * file), but a path whose existing part escapes the store is refused.
   *
   * @param what names the parameter in messages, e.g. {@code "src"}
   * @throws GraftException {@code INVALID_ARGUMENT} for an empty or malformed reference, a remote
   *     URL, or a path outside the store that {@code model_url_pattern} does not allow
   */
  public Path resolve(String reference, String what) {
    if (reference == null || reference.isBlank()) {
      throw GraftException.invalid("%s is required", what);
    }
    boolean matches = urlPattern != null && urlPattern.matcher(reference).matches();
    Path path = toPath(reference, what, matches);
    boolean climbs = hasParentSegment(path);
    Path absolute = root.resolve(path).normalize();
    if (matches && !climbs) {
      return absolute;
    }
    if (!absolute.startsWith(root)) {
      throw GraftException.invalid(
          matches
              ? "%s '%s' leaves the model store with '..', which model_url_pattern cannot allow"
              : "%s '%s' is outside the model store (set model_url_pattern to allow it)",
          what,
          reference);
    }
    requireRealPathInside(absolute, reference, what);
    return absolute;
  }

  private static Path toPath(String reference, String what, boolean allowed) {
    try {
      if (SCHEME.matcher(reference).matches() && !looksLikeWindowsDrive(reference)) {
        URI uri = new URI(reference);
        if (!"file".equalsIgnoreCase(uri.getScheme())) {
          throw GraftException.invalid(
              "%s '%s': %s URLs are not fetched by Graft%s",
              what,
              reference,
              uri.getScheme(),
              allowed ? "" : " (and it does not match model_url_pattern)");
        }
        return Path.of(uri);
      }
      return Path.of(reference);
    } catch (URISyntaxException | IllegalArgumentException e) {
      // InvalidPathException and Path.of(URI)'s refusals are IllegalArgumentExceptions
      throw GraftException.invalid(
          "%s '%s' is not a valid path or file URI: %s", what, reference, e.getMessage());
    }
  }

  private static boolean hasParentSegment(Path path) {
    for (Path part : path) {
      if (part.toString().equals("..")) {
        return true;
      }
    }
    return false;
  }

  private static boolean looksLikeWindowsDrive(String reference) {
    return reference.length() > 2 && reference.charAt(1) == ':' && reference.charAt(2) == '\\';
  }

  /** Follows symbolic links of the longest existing prefix and checks it stays in the store. */
  private void requireRealPathInside(Path absolute, String reference, String what) {
    Path realRoot;
    try {
      realRoot = root.toRealPath();
    } catch (IOException e) {
      return; // no store on disk: nothing inside it can exist, the caller reports 404
    }
    Path existing = absolute;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return;
    }
    try {
      Path real = existing.toRealPath();
      if (!real.startsWith(realRoot)) {
        throw GraftException.invalid(
            "%s '%s' resolves outside the model store through a symbolic link", what, reference);
      }
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          what + " '" + reference + "' cannot be resolved: " + e.getMessage(),
          e);
    }
  }
}
