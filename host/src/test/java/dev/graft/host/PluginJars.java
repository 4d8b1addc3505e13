package dev.graft.host;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/** Writes plugin jars at test time from compiled test classes. */
final class PluginJars {

  /** The package hidden from the plugin loader's parent, so its classes come from the jars. */
  static final String TEST_PLUGIN_PACKAGE = "dev.graft.host.testplugin.";

  private PluginJars() {}

  /**
   * Writes {@code folder/jarName} with a {@code META-INF/plugin.definition} (when {@code
   * definition} is not null) and the class files of {@code classes}.
   */
  static Path write(Path folder, String jarName, String definition, Class<?>... classes)
      throws IOException {
    Files.createDirectories(folder);
    Path jar = folder.resolve(jarName);
    try (OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file)) {
      if (definition != null) {
        out.putNextEntry(new JarEntry(PluginLoader.DEFINITION));
        out.write(definition.getBytes(StandardCharsets.UTF_8));
        out.closeEntry();
      }
      for (Class<?> type : classes) {
        String resource = type.getName().replace('.', '/') + ".class";
        try (InputStream in = type.getClassLoader().getResourceAsStream(resource)) {
          if (in == null) {
            throw new IOException("no class file for " + type.getName());
          }
          out.putNextEntry(new JarEntry(resource));
          in.transferTo(out);
          out.closeEntry();
        }
      }
    }
    return jar;
  }

  /** A definition text with the given name, exported classes and required plugins. */
  static String definition(String name, List<String> exports, List<String> requires) {
    return "name="
        + name
        + "\nexport="
        + String.join(",", exports)
        + "\nrequires="
        + String.join(",", requires)
        + "\n";
  }

  /** A definition exporting {@code exports} (by class) and requiring nothing. */
  static String definition(String name, Class<?>... exports) {
    return definition(
        name, java.util.Arrays.stream(exports).map(Class::getName).toList(), List.of());
  }

  /** A plugin loader whose parent cannot see the test plugin classes. */
  static PluginLoader isolatedLoader() {
    return new PluginLoader(
        new HidingClassLoader(PluginJars.class.getClassLoader(), TEST_PLUGIN_PACKAGE));
  }

  /** Delegates to its parent except for classes under a hidden package prefix. */
  static final class HidingClassLoader extends ClassLoader {
    private final String hiddenPrefix;

    HidingClassLoader(ClassLoader parent, String hiddenPrefix) {
      super(parent);
      this.hiddenPrefix = hiddenPrefix;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (name.startsWith(hiddenPrefix)) {
        throw new ClassNotFoundException(name + " is hidden from plugins' parent loader");
      }
      return super.loadClass(name, resolve);
    }
  }
}
