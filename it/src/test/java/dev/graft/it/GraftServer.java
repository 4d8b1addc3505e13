package dev.graft.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Graft host started as a separate process, exactly as a user starts it: {@code java -jar
 * host/target/graft-host.jar --config <config.properties>}, in a scratch folder that holds the
 * config file and a model store assembled for the test. Both connectors share one ephemeral port
 * ({@code http://127.0.0.1:0}); the port is read from the {@code Inference API bind to: URL} line
 * the host prints. The process output goes to a log file under {@code it/target/it-logs} and is
 * kept in memory for failure messages.
 *
 * <p>Start with {@link #builder(String)}; {@link #close()} stops the process (destroy, then
 * destroyForcibly after a grace period) and removes the scratch folder. Thread safe: tests may call
 * {@link #uri} and {@link #client} from many threads.
 */
public final class GraftServer implements AutoCloseable {
  private static final Pattern BIND_LINE =
      Pattern.compile("Inference API bind to:\\s*(http://\\S+?)/?\\s*$");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  private final String name;
  private final Process process;
  private final Path workDir;
  private final Path modelStore;
  private final Path logFile;
  private final StringBuffer output =
      new StringBuffer(); // StringBuffer: written by the pump thread
  private final CompletableFuture<URI> bound = new CompletableFuture<>();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private volatile URI baseUri;
  private volatile GraftClient client;

  /** Kills the process if the test JVM exits without {@link #close()} (e.g. a killed fork). */
  private final Thread reaper;

  private GraftServer(String name, Process process, Path workDir, Path modelStore, Path logFile) {
    this.name = name;
    this.process = process;
    this.workDir = workDir;
    this.modelStore = modelStore;
    this.logFile = logFile;
    this.reaper = new Thread(process::destroyForcibly, "graft-it-reaper-" + name);
  }

  /** A server whose log files are named after {@code name} (usually the test class). */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** The server's base address, {@code http://127.0.0.1:PORT}. */
  public URI baseUri() {
    return baseUri;
  }

  /** {@code pathAndQuery} (starting with {@code /}) on this server. */
  public URI uri(String pathAndQuery) {
    return baseUri.resolve(pathAndQuery);
  }

  /** A shared HTTP client for this server. */
  public GraftClient client() {
    return client;
  }

  /** The scratch model store the server was configured with; tests may add files to it. */
  public Path modelStore() {
    return modelStore;
  }

  /** The file the process output goes to. */
  public Path logFile() {
    return logFile;
  }

  /** Everything the process printed so far. */
  public String output() {
    return output.toString();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Polls {@code GET /v2/models/{model}/ready} until it answers 200, failing with the server output
   * after a minute.
   */
  public void awaitReady(String model) {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    GraftClient.Response last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(describe("exited while waiting for model " + model));
      }
      last = client.get("/v2/models/" + model + "/ready");
      if (last.status() == 200) {
        return;
      }
      Poll.pause();
    }
    throw new IllegalStateException(
        describe("model " + model + " not ready after " + READY_TIMEOUT + "; last answer " + last));
  }

  /** Adds a file to the model store (e.g. a signature the test wrote), returning its store path. */
  public Path putFile(String relative, byte[] bytes) {
    try {
      Path target = modelStore.resolve(relative);
      Files.createDirectories(target.getParent());
      Files.write(target, bytes);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A message naming this server, with its output, for failed expectations. */
  public String describe(String what) {
    return "server " + name + " " + what + "\n--- output (" + logFile + ") ---\n" + output();
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the reaper runs anyway
    }
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(STOP_GRACE.toSeconds(), TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(STOP_GRACE.toSeconds(), TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    try {
      ended.get(STOP_GRACE.toSeconds(), TimeUnit.SECONDS); // the log file is complete
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // the output pump is a daemon; the log may miss its last lines
    }
    Fixtures.deleteTree(workDir);
  }

  private void pump() {
    try (BufferedReader in =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        output.append(line).append('\n');
        log.write(line);
        log.write('\n');
        log.flush();
        Matcher m = BIND_LINE.matcher(line);
        if (!bound.isDone() && m.find()) {
          bound.complete(URI.create(m.group(1)));
        }
      }
    } catch (IOException e) {
      output.append("[graft-it: output pump failed: ").append(e).append("]\n");
    } finally {
      bound.completeExceptionally(new IllegalStateException("the process output ended"));
      ended.complete(null);
    }
  }

  /** Assembles the scratch folder and starts the process. Not thread safe. */
  public static final class Builder {
    private final String name;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private final Map<String, Path> storeFiles = new LinkedHashMap<>();
    private final Map<String, Path> storeFolders = new LinkedHashMap<>();
    private final List<String> jvmOptions = new ArrayList<>(List.of("-Xmx384m", "-Xss1m"));

    private Builder(String name) {
      this.name = name;
    }

    /** Copies the example store's model folder {@code model-store/<name>} into the store. */
    public Builder exampleModel(String name) {
      return folder(name, Fixtures.exampleModel(name));
    }

    /** Copies a folder into the store as {@code relative}. */
    public Builder folder(String relative, Path source) {
      storeFolders.put(relative, source);
      return this;
    }

    /** Copies a file into the store as {@code relative}. */
    public Builder file(String relative, Path source) {
      storeFiles.put(relative, source);
      return this;
    }

    /** The {@code load_models} entry: models the server loads at startup. */
    public Builder loadModels(String value) {
      return property("load_models", value);
    }

    /** Any other {@code config.properties} entry, e.g. {@code max_request_size}. */
    public Builder property(String key, String value) {
      properties.put(key, value);
      return this;
    }

    /** An extra option for the server's JVM. */
    public Builder jvmOption(String option) {
      jvmOptions.add(option);
      return this;
    }

    /**
     * Starts the server and waits (at most 60 s) for its bind line, then for every model named in
     * {@code load_models} to be ready.
     *
     * @throws IllegalStateException with the process output when it does not come up
     */
    public GraftServer start() {
      Path jar = Fixtures.hostJar();
      Path plugins = Fixtures.pluginFolder();
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException(jar + " is missing: build the host first (mvn package)");
      }
      if (!Files.isDirectory(plugins)) {
        throw new IllegalStateException(plugins + " is missing: build the plugin (mvn package)");
      }
      Path workDir = Fixtures.scratch(name + "-");
      Path store = workDir.resolve("model-store");
      Path logFile = logFile();
      try {
        Files.createDirectories(store);
        storeFolders.forEach((rel, src) -> Fixtures.copyTree(src, store.resolve(rel)));
        for (Map.Entry<String, Path> e : storeFiles.entrySet()) {
          Path target = store.resolve(e.getKey());
          Files.createDirectories(target.getParent());
          Files.copy(e.getValue(), target, StandardCopyOption.REPLACE_EXISTING);
        }
        Path config = workDir.resolve("config.properties");
        Files.writeString(config, configText(store, plugins), StandardCharsets.UTF_8);

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString(), "--config", config.toString()));
        ProcessBuilder pb =
            new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
        Process process = pb.start();
        GraftServer server = new GraftServer(name, process, workDir, store, logFile);
        Runtime.getRuntime().addShutdownHook(server.reaper);
        Thread pump = new Thread(server::pump, "graft-it-output-" + name);
        pump.setDaemon(true);
        pump.start();
        try {
          server.awaitBind();
          for (String model : modelsToAwait()) {
            server.awaitReady(model);
          }
        } catch (RuntimeException | Error e) {
          server.close();
          throw e;
        }
        return server;
      } catch (IOException e) {
        Fixtures.deleteTree(workDir);
        throw new UncheckedIOException("cannot start server " + name, e);
      }
    }

    private String configText(Path store, Path plugins) {
      Map<String, String> all = new LinkedHashMap<>();
      all.put("inference_address", "http://127.0.0.1:0");
      all.put("management_address", "http://127.0.0.1:0");
      // the plugin's gRPC endpoint on a free port too: the default 8082 would collide between runs
      all.put("grpc_address", "127.0.0.1:0");
      all.put("model_store", store.toString());
      all.put("plugin_folder", plugins.toString());
      all.putAll(properties);
      StringBuilder text = new StringBuilder("# written by graft-it GraftServer\n");
      all.forEach(
          (k, v) -> text.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
      return text.toString();
    }

    /** Model names of the {@code load_models} entries ({@code [name=]folder}, comma-separated). */
    private List<String> modelsToAwait() {
      String value = properties.get("load_models");
      List<String> names = new ArrayList<>();
      if (value == null || value.isBlank() || value.equalsIgnoreCase("ALL")) {
        return names;
      }
      for (String entry : value.split("[,\\s]+")) {
        int eq = entry.indexOf('=');
        String model = eq >= 0 ? entry.substring(0, eq) : entry;
        int slash = model.lastIndexOf('/');
        names.add(model.substring(slash + 1));
      }
      return names;
    }

    private Path logFile() {
      String dir = System.getProperty("graft.it.logs");
      Path logs =
          dir != null
              ? Path.of(dir)
              : Fixtures.root().resolve("it").resolve("target").resolve("it-logs");
      try {
        Files.createDirectories(logs);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss-SSS"));
      return logs.resolve(name + "-" + stamp + ".log");
    }
  }

  private void awaitBind() {
    try {
      baseUri = bound.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      client = new GraftClient(baseUri);
    } catch (TimeoutException | ExecutionException e) {
      throw new IllegalStateException(
          describe("printed no 'Inference API bind to:' line within " + START_TIMEOUT), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting " + name, e);
    }
  }
}
