package dev.graft.plugin.kserve;

import java.util.List;

/** The server as {@code GET /v2} and {@code ServerMetadata} describe it. */
public record ServerMetadata(String name, String version, List<String> extensions) {
  public ServerMetadata {
    extensions = List.copyOf(extensions);
  }
}
