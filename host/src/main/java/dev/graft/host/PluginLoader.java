package dev.graft.host;

import ai.djl.serving.plugins.RequestHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Loads plugin jars the way DJL Serving 0.36 does: every {@code *.jar} directly in {@code
 * plugin_folder} (sorted by file name) goes into one {@link URLClassLoader} whose parent is the
 * host's class loader, so Netty and {@link RequestHandler} are shared with the host. Each jar's
 * {@value #DEFINITION} names the plugin ({@code name}), the handler classes to instantiate ({@code
 * export}, comma-separated, public no-arg constructors) and the plugins it needs ({@code
 * requires}). A jar without a definition is a library for the others. Plugins are instantiated
 * after the plugins they require, otherwise in jar order; that is also the order in which the host
 * consults their handlers.
 *
 * <h2>Configuration contract for plugins</h2>
 *
 * Before any plugin class is instantiated, the loader sets these system properties:
 *
 * <ul>
 *   <li>{@value #CONFIG_FILE_PROPERTY}: the absolute path of the {@code config.properties} the host
 *       read; cleared when the host runs on defaults only. A plugin can re-read the same file.
 *   <li>{@value #CONFIG_PROPERTY_PREFIX}{@code <key>} for every effective key of the {@link
 *       HostConfig} (defaults, file and {@code SERVING_*} overrides applied; {@code model_store}
 *       and {@code plugin_folder} absolute), e.g. {@code graft.config.model_store}.
 * </ul>
 *
 * Properties with the {@value #CONFIG_PROPERTY_PREFIX} prefix left by an earlier load are removed
 * first. Nothing else global is touched. System properties are per JVM: when several hosts run in
 * one JVM (tests), plugins see the configuration of the most recent load.
 *
 * <p>Exported classes are instantiated with the plugin class loader as the thread's context class
 * loader. Any failure (class not found, not a {@code RequestHandler}, no public no-arg constructor,
 * a constructor that throws, a missing required plugin) aborts the whole load with a {@link
 * PluginLoadException} naming the plugin and class; handlers created so far are closed first.
 *
 * <p>Instances are immutable and thread-safe; {@link #load} itself should not run concurrently with
 * another load because of the shared system properties.
 */
public final class PluginLoader {

  /** Where each plugin jar describes itself. */
  public static final String DEFINITION = "META-INF/plugin.definition";

  /** System property holding the absolute path of the host's config file. */
  public static final String CONFIG_FILE_PROPERTY = "graft.config.file";

  /** Prefix of the system properties that hold every effective config key. */
  public static final String CONFIG_PROPERTY_PREFIX = "graft.config.";

  private static final Logger LOG = Logger.getLogger(PluginLoader.class.getName());

  private final ClassLoader parent;

  /** A loader whose plugin class loader delegates to the host's own class loader. */
  public PluginLoader() {
    this(PluginLoader.class.getClassLoader());
  }

  /** A loader whose plugin class loader delegates to {@code parent} (tests hide classes here). */
  public PluginLoader(ClassLoader parent) {
    this.parent = parent;
  }

  /**
   * Publishes the configuration (see the class comment), then loads every plugin in {@code
   * config.pluginFolder()}. A missing folder means no plugins.
   *
   * @return the loaded plugins, owned by the caller
   * @throws PluginLoadException when any plugin cannot be loaded; nothing stays open then
   */
  public LoadedPlugins load(HostConfig config) throws PluginLoadException {
    publish(config);
    Path folder = config.pluginFolder();
    if (!Files.isDirectory(folder)) {
      LOG.info("Plugin folder " + folder + " does not exist: no plugins loaded");
      return LoadedPlugins.none();
    }
    List<Path> jars = listJars(folder);
    if (jars.isEmpty()) {
      LOG.info("No plugin jars in " + folder);
      return LoadedPlugins.none();
    }
    List<PluginDefinition> definitions = new ArrayList<>();
    for (Path jar : jars) {
      PluginDefinition definition = readDefinition(jar);
      if (definition == null) {
        LOG.fine(() -> jar.getFileName() + " has no " + DEFINITION + ": library jar");
      } else {
        definitions.add(definition);
      }
    }
    List<PluginDefinition> ordered = order(definitions, folder);
    URLClassLoader loader = new URLClassLoader("graft-plugins", toUrls(jars), parent);
    List<RequestHandler<?>> handlers = new ArrayList<>();
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(loader);
    try {
      for (PluginDefinition definition : ordered) {
        for (String className : definition.exports()) {
          handlers.add(instantiate(definition, className, loader));
        }
        LOG.info(
            () ->
                "Loaded plugin '"
                    + definition.name()
                    + "' from "
                    + definition.jar().getFileName()
                    + " exporting "
                    + definition.exports());
      }
    } catch (PluginLoadException e) {
      new LoadedPlugins(ordered, handlers, loader).close();
      throw e;
    } finally {
      thread.setContextClassLoader(previous);
    }
    return new LoadedPlugins(ordered, handlers, loader);
  }

  private static void publish(HostConfig config) {
    List<String> stale =
        System.getProperties().stringPropertyNames().stream()
            .filter(name -> name.startsWith(CONFIG_PROPERTY_PREFIX))
            .collect(Collectors.toList());
    stale.forEach(System::clearProperty);
    config
        .properties()
        .forEach((key, value) -> System.setProperty(CONFIG_PROPERTY_PREFIX + key, value));
    config
        .configFile()
        .ifPresentOrElse(
            file -> System.setProperty(CONFIG_FILE_PROPERTY, file.toAbsolutePath().toString()),
            () -> System.clearProperty(CONFIG_FILE_PROPERTY));
  }

  private static List<Path> listJars(Path folder) throws PluginLoadException {
    try (Stream<Path> files = Files.list(folder)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p))
          .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new PluginLoadException("Cannot list plugin folder " + folder + ": " + e, e);
    }
  }

  /** Reads the jar's definition, or returns null when it has none. */
  private static PluginDefinition readDefinition(Path jar) throws PluginLoadException {
    Properties props = new Properties();
    try (JarFile file = new JarFile(jar.toFile())) {
      JarEntry entry = file.getJarEntry(DEFINITION);
      if (entry == null) {
        return null;
      }
      try (InputStream in = file.getInputStream(entry);
          Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
        props.load(reader);
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new PluginLoadException("Cannot read plugin jar " + jar + ": " + e, e);
    }
    String fileName = jar.getFileName().toString();
    String name = props.getProperty("name", "").trim();
    if (name.isEmpty()) {
      name = fileName.substring(0, fileName.length() - ".jar".length());
      LOG.warning(fileName + ": " + DEFINITION + " has no name, using '" + name + "'");
    }
    List<String> exports = list(props.getProperty("export"));
    if (exports.isEmpty()) {
      LOG.warning("Plugin '" + name + "' (" + fileName + ") exports no classes");
    }
    return new PluginDefinition(name, exports, list(props.getProperty("requires")), jar);
  }

  private static List<String> list(String commaSeparated) {
    if (commaSeparated == null) {
      return List.of();
    }
    return Arrays.stream(commaSeparated.split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toList());
  }

  /** Orders definitions so that each comes after the plugins it requires, else by jar order. */
  static List<PluginDefinition> order(List<PluginDefinition> definitions, Path folder)
      throws PluginLoadException {
    Map<String, PluginDefinition> byName = new LinkedHashMap<>();
    for (PluginDefinition d : definitions) {
      PluginDefinition clash = byName.put(d.name(), d);
      if (clash != null) {
        throw new PluginLoadException(
            "Plugin '"
                + d.name()
                + "' is defined twice: in "
                + clash.jar().getFileName()
                + " and "
                + d.jar().getFileName());
      }
    }
    for (PluginDefinition d : definitions) {
      for (String required : d.requires()) {
        if (!byName.containsKey(required)) {
          throw new PluginLoadException(
              describe(d) + " requires plugin '" + required + "', which is not in " + folder);
        }
      }
    }
    List<PluginDefinition> ordered = new ArrayList<>();
    Set<String> done = new HashSet<>();
    while (ordered.size() < definitions.size()) {
      PluginDefinition next =
          definitions.stream()
              .filter(d -> !done.contains(d.name()) && done.containsAll(d.requires()))
              .findFirst()
              .orElse(null);
      if (next == null) {
        List<String> stuck =
            definitions.stream()
                .map(PluginDefinition::name)
                .filter(n -> !done.contains(n))
                .collect(Collectors.toList());
        throw new PluginLoadException("Plugins " + stuck + " require each other in a cycle");
      }
      ordered.add(next);
      done.add(next.name());
    }
    return ordered;
  }

  private static RequestHandler<?> instantiate(
      PluginDefinition definition, String className, ClassLoader loader)
      throws PluginLoadException {
    String where = describe(definition) + ": class " + className;
    Class<?> type;
    try {
      type = Class.forName(className, true, loader);
    } catch (ClassNotFoundException e) {
      throw new PluginLoadException(where + " not found", e);
    } catch (LinkageError e) {
      throw new PluginLoadException(where + " cannot be loaded: " + e, e);
    }
    if (!RequestHandler.class.isAssignableFrom(type)) {
      throw new PluginLoadException(
          where + " does not implement " + RequestHandler.class.getName());
    }
    Constructor<?> constructor;
    try {
      constructor = type.getConstructor();
    } catch (NoSuchMethodException e) {
      throw new PluginLoadException(where + " has no public no-arg constructor", e);
    }
    try {
      return (RequestHandler<?>) constructor.newInstance();
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      throw new PluginLoadException(where + " failed in its constructor: " + cause, cause);
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new PluginLoadException(where + " cannot be instantiated: " + e, e);
    }
  }

  private static String describe(PluginDefinition definition) {
    return "Plugin '" + definition.name() + "' (" + definition.jar().getFileName() + ")";
  }

  private static URL[] toUrls(List<Path> jars) throws PluginLoadException {
    URL[] urls = new URL[jars.size()];
    for (int i = 0; i < urls.length; i++) {
      try {
        urls[i] = jars.get(i).toUri().toURL();
      } catch (MalformedURLException e) {
        throw new PluginLoadException("Bad plugin jar path " + jars.get(i), e);
      }
    }
    return urls;
  }
}
