package dev.graft.host;

import static dev.graft.host.PluginJars.definition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.serving.plugins.RequestHandler;
import dev.graft.host.testplugin.CatchAllHandler;
import dev.graft.host.testplugin.ClosingHandler;
import dev.graft.host.testplugin.ConfigProbeHandler;
import dev.graft.host.testplugin.EchoHandler;
import dev.graft.host.testplugin.FailingConstructorHandler;
import dev.graft.host.testplugin.NotAHandler;
import dev.graft.host.testplugin.PathMatch;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginLoaderTest {

  @TempDir Path workDir;

  private LoadedPlugins loaded = LoadedPlugins.none();

  @AfterEach
  void closePlugins() {
    loaded.close();
  }

  private Path plugins() {
    return workDir.resolve("plugins");
  }

  private HostConfig config(Map<String, String> env) throws ConfigException {
    return HostConfig.load(null, env, workDir);
  }

  private LoadedPlugins load(HostConfig config) throws PluginLoadException {
    loaded = PluginJars.isolatedLoader().load(config);
    return loaded;
  }

  private static List<String> handlerClassNames(LoadedPlugins plugins) {
    return plugins.handlers().stream().map(h -> h.getClass().getName()).toList();
  }

  @Test
  void missingPluginFolderMeansNoPlugins() throws Exception {
    LoadedPlugins plugins = load(config(Map.of()));

    assertThat(plugins.definitions()).isEmpty();
    assertThat(plugins.handlers()).isEmpty();
  }

  @Test
  void exportedHandlersComeFromOnePluginClassLoaderSharingTheSpi() throws Exception {
    PluginJars.write(
        plugins(),
        "echo.jar",
        definition("echo", EchoHandler.class),
        EchoHandler.class,
        PathMatch.class);

    LoadedPlugins plugins = load(config(Map.of()));

    assertThat(plugins.definitions()).extracting(PluginDefinition::name).containsExactly("echo");
    RequestHandler<?> handler = plugins.handlers().get(0);
    assertThat(handler.getClass().getName()).isEqualTo(EchoHandler.class.getName());
    assertThat(handler.getClass())
        .as("the class must be defined by the plugin jar, not the test class path")
        .isNotSameAs(EchoHandler.class);
    assertThat(handler.getClass().getClassLoader()).isInstanceOf(URLClassLoader.class);
    assertThat(handler.getClass().getClassLoader().getName()).isEqualTo("graft-plugins");
    assertThat(handler)
        .as("the SPI type is shared with the host")
        .isInstanceOf(RequestHandler.class);
  }

  @Test
  void classesOfAllJarsShareOneClassLoader() throws Exception {
    // The plugin jar exports a class that only a library jar (no definition) contains.
    PluginJars.write(plugins(), "lib-classes.jar", null, EchoHandler.class, PathMatch.class);
    PluginJars.write(plugins(), "plugin.jar", definition("echo", EchoHandler.class));

    LoadedPlugins plugins = load(config(Map.of()));

    assertThat(handlerClassNames(plugins)).containsExactly(EchoHandler.class.getName());
  }

  @Test
  void jarsLoadInFileNameOrderAndHandlersFollowIt() throws Exception {
    PluginJars.write(
        plugins(),
        "b-catch-all.jar",
        definition("catch-all", CatchAllHandler.class),
        CatchAllHandler.class);
    PluginJars.write(
        plugins(),
        "a-echo.jar",
        definition("echo", EchoHandler.class),
        EchoHandler.class,
        PathMatch.class);
    Files.writeString(plugins().resolve("notes.txt"), "not a jar");

    LoadedPlugins plugins = load(config(Map.of()));

    assertThat(plugins.definitions())
        .extracting(PluginDefinition::name)
        .containsExactly("echo", "catch-all");
    assertThat(handlerClassNames(plugins))
        .containsExactly(EchoHandler.class.getName(), CatchAllHandler.class.getName());
  }

  @Test
  void requiredPluginIsInstantiatedFirst() throws Exception {
    PluginJars.write(
        plugins(),
        "a-dependent.jar",
        definition("dependent", List.of(CatchAllHandler.class.getName()), List.of("base")),
        CatchAllHandler.class);
    PluginJars.write(
        plugins(),
        "b-base.jar",
        definition("base", EchoHandler.class),
        EchoHandler.class,
        PathMatch.class);

    LoadedPlugins plugins = load(config(Map.of()));

    assertThat(plugins.definitions())
        .extracting(PluginDefinition::name)
        .containsExactly("base", "dependent");
  }

  @Test
  void missingRequiredPluginAbortsNamingBoth() throws Exception {
    PluginJars.write(
        plugins(),
        "dependent.jar",
        definition("dependent", List.of(CatchAllHandler.class.getName()), List.of("absent")),
        CatchAllHandler.class);

    assertThatThrownBy(() -> load(config(Map.of())))
        .isInstanceOf(PluginLoadException.class)
        .hasMessageContaining("'dependent'")
        .hasMessageContaining("'absent'");
  }

  @Test
  void missingExportedClassAbortsNamingPluginAndClass() throws Exception {
    PluginJars.write(
        plugins(), "broken.jar", definition("broken", List.of("com.example.Missing"), List.of()));

    assertThatThrownBy(() -> load(config(Map.of())))
        .isInstanceOf(PluginLoadException.class)
        .hasMessageContaining("'broken'")
        .hasMessageContaining("com.example.Missing")
        .hasMessageContaining("not found");
  }

  @Test
  void exportedClassThatIsNoRequestHandlerAborts() throws Exception {
    PluginJars.write(plugins(), "odd.jar", definition("odd", NotAHandler.class), NotAHandler.class);

    assertThatThrownBy(() -> load(config(Map.of())))
        .isInstanceOf(PluginLoadException.class)
        .hasMessageContaining("'odd'")
        .hasMessageContaining(NotAHandler.class.getName())
        .hasMessageContaining("does not implement ai.djl.serving.plugins.RequestHandler");
  }

  @Test
  void throwingConstructorAbortsAndClosesHandlersAlreadyCreated() throws Exception {
    Path marker = workDir.resolve("closed.marker");
    PluginJars.write(
        plugins(),
        "a-closing.jar",
        definition("closing", ClosingHandler.class),
        ClosingHandler.class);
    PluginJars.write(
        plugins(),
        "b-failing.jar",
        definition("failing", FailingConstructorHandler.class),
        FailingConstructorHandler.class);

    assertThatThrownBy(() -> load(config(Map.of("SERVING_CLOSE_MARKER", marker.toString()))))
        .isInstanceOf(PluginLoadException.class)
        .hasMessageContaining("'failing'")
        .hasMessageContaining(FailingConstructorHandler.class.getName())
        .hasMessageContaining("model store unreadable");
    assertThat(marker).as("the handler created before the failure was closed").exists();
  }

  @Test
  void closeClosesAutoCloseableHandlers() throws Exception {
    Path marker = workDir.resolve("closed.marker");
    PluginJars.write(
        plugins(),
        "closing.jar",
        definition("closing", ClosingHandler.class),
        ClosingHandler.class);
    LoadedPlugins plugins = load(config(Map.of("SERVING_CLOSE_MARKER", marker.toString())));
    assertThat(marker).doesNotExist();

    plugins.close();

    assertThat(marker).hasContent("closed");
  }

  @Test
  void pluginSeesConfigFileAndEffectiveKeysWhileConstructed() throws Exception {
    PluginJars.write(
        plugins(),
        "probe.jar",
        definition("probe", ConfigProbeHandler.class),
        ConfigProbeHandler.class,
        PathMatch.class);
    Path file = workDir.resolve("config.properties");
    Files.writeString(file, "model_store=store\nprobe_key=from-file\n");
    HostConfig config =
        HostConfig.load(
            file, Map.of("SERVING_INFERENCE_ADDRESS", "http://127.0.0.1:9999"), workDir);

    Map<?, ?> seen = probe(load(config));

    assertThat(seen.get("configFile")).isEqualTo(file.toAbsolutePath().toString());
    assertThat(seen.get("modelStore")).isEqualTo(workDir.resolve("store").toString());
    assertThat(seen.get("probeKey")).isEqualTo("from-file");
    assertThat(seen.get("inferenceAddress"))
        .as("environment overrides are visible to plugins")
        .isEqualTo("http://127.0.0.1:9999");
  }

  @Test
  void configFilePropertyIsClearedWhenHostRunsOnDefaults() throws Exception {
    System.setProperty(PluginLoader.CONFIG_FILE_PROPERTY, "stale");
    System.setProperty("graft.config.probe_key", "stale");
    PluginJars.write(
        plugins(),
        "probe.jar",
        definition("probe", ConfigProbeHandler.class),
        ConfigProbeHandler.class,
        PathMatch.class);

    Map<?, ?> seen = probe(load(config(Map.of())));

    assertThat(seen.get("configFile")).isEqualTo("<unset>");
    assertThat(seen.get("probeKey")).isEqualTo("<unset>");
  }

  private static Map<?, ?> probe(LoadedPlugins plugins) {
    @SuppressWarnings("unchecked")
    RequestHandler<Object> handler = (RequestHandler<Object>) plugins.handlers().get(0);
    Object result =
        handler.handleRequest(
            null,
            new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/probe"),
            new QueryStringDecoder("/probe"),
            new String[] {"", "probe"});
    return (Map<?, ?>) result;
  }

  @Test
  void unreadableJarAbortsNamingIt() throws Exception {
    Files.createDirectories(plugins());
    Files.writeString(plugins().resolve("corrupt.jar"), "this is not a zip file");

    assertThatThrownBy(() -> load(config(Map.of())))
        .isInstanceOf(PluginLoadException.class)
        .hasMessageContaining("corrupt.jar");
  }

  @Test
  void duplicatePluginNamesAbort() throws IOException {
    PluginJars.write(
        plugins(), "a.jar", definition("same", CatchAllHandler.class), CatchAllHandler.class);
    PluginJars.write(plugins(), "b.jar", definition("same", CatchAllHandler.class));

    assertThatThrownBy(() -> load(config(Map.of())))
        .isInstanceOf(PluginLoadException.class)
        .hasMessageContaining("'same' is defined twice");
  }
}
