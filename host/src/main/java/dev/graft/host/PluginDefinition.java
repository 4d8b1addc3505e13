package dev.graft.host;

import java.nio.file.Path;
import java.util.List;

/**
 * One {@code META-INF/plugin.definition}: a properties file with {@code name}, {@code export}
 * (comma-separated handler classes) and {@code requires} (comma-separated plugin names).
 *
 * @param name the plugin name
 * @param exports fully qualified names of the classes to instantiate, in declaration order
 * @param requires names of plugins that must be loaded too
 * @param jar the jar the definition was read from
 */
public record PluginDefinition(String name, List<String> exports, List<String> requires, Path jar) {

  public PluginDefinition {
    exports = List.copyOf(exports);
    requires = List.copyOf(requires);
  }
}
