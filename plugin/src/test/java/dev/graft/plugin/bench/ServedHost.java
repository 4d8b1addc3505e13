package dev.graft.plugin.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Graft host as a separate process, for the served benchmarks: {@code java -jar
 * host/target/graft-host.jar} with the plugin jars of {@code plugins/}, HTTP and gRPC on free
 * loopback ports ({@code :0}; the bound addresses are read from the host's output), over a model
 * store the caller prepared. Owns the process: {@link #close} stops it.
 */
final class ServedHost implements AutoCloseable {
  private static final Pattern HTTP_LINE = Pattern.compile("Inference API bind to: (http://\\S+)");
  private static final Pattern GRPC_LINE = Pattern.compile("gRPC API bind to: (\\S+):(\\d+)");

  private final Process process;
  private final URI http;
  private final String grpcHost;
  private final int grpcPort;

  private ServedHost(Process process, URI http, String grpcHost, int grpcPort) {
    this.process = process;
    this.http = http;
    this.grpcHost = grpcHost;
    this.grpcPort = grpcPort;
  }

  /**
   * Starts a host on {@code store} and waits until it printed its addresses (its models are loaded
   * by then).
   *
   * @param root the repository root (holds {@code host/target} and {@code plugins/})
   * @param work a scratch folder for the config file
   * @param extraConfig further {@code config.properties} entries
   */
  static ServedHost start(Path root, Path work, Path store, Map<String, String> extraConfig)
      throws IOException {
    Path jar = root.resolve("host/target/graft-host.jar");
    Path plugins = root.resolve("plugins");
    if (!Files.isRegularFile(jar) || !Files.isRegularFile(plugins.resolve("graft-plugin.jar"))) {
      throw new IllegalStateException(
          "build the host and the plugin first: mvn -B -pl host,plugin -am package -DskipTests");
    }
    List<String> lines = new ArrayList<>();
    lines.add("inference_address=http://127.0.0.1:0");
    lines.add("grpc_address=127.0.0.1:0");
    lines.add("model_store=" + escape(store));
    lines.add("load_models=ALL");
    lines.add("plugin_folder=" + escape(plugins));
    extraConfig.forEach((k, v) -> lines.add(k + "=" + v));
    Path config = work.resolve("config.properties");
    Files.createDirectories(work);
    Files.writeString(config, String.join("\n", lines) + "\n");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(), "-Xmx512m", "-jar", jar.toString(), "--config", config.toString())
            .redirectErrorStream(true)
            .start();
    try {
      return awaitAddresses(p);
    } catch (RuntimeException | IOException e) {
      p.destroyForcibly();
      throw e;
    }
  }

  private static String escape(Path p) {
    return p.toAbsolutePath().toString().replace("\\", "\\\\");
  }

  URI http() {
    return http;
  }

  String grpcHost() {
    return grpcHost;
  }

  int grpcPort() {
    return grpcPort;
  }

  /** The host's JIT compiler activity (warm-ups end when it is idle). */
  JitActivity jit() {
    return JitActivity.process(process.pid());
  }

  /** CPU time the host process has used so far (user + system), or -1 if the OS does not say. */
  long cpuNanos() {
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Reads the host's output until both addresses are printed; keeps draining it afterwards. */
  private static ServedHost awaitAddresses(Process host) throws IOException {
    CompletableFuture<ServedHost> found = new CompletableFuture<>();
    StringBuilder early = new StringBuilder();
    Thread pump =
        new Thread(
            () -> {
              URI http = null;
              String grpcHost = null;
              int grpcPort = -1;
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  if (!found.isDone()) {
                    synchronized (early) {
                      early.append(line).append('\n');
                    }
                  }
                  Matcher h = HTTP_LINE.matcher(line);
                  Matcher g = GRPC_LINE.matcher(line);
                  if (h.find()) {
                    http = URI.create(h.group(1));
                  } else if (g.find()) {
                    grpcHost = g.group(1);
                    grpcPort = Integer.parseInt(g.group(2));
                  }
                  if (http != null && grpcPort >= 0 && !found.isDone()) {
                    found.complete(new ServedHost(host, http, grpcHost, grpcPort));
                  }
                }
              } catch (IOException e) {
                found.completeExceptionally(e);
              }
              found.completeExceptionally(new IllegalStateException("the host exited"));
            },
            "host-output");
    pump.setDaemon(true);
    pump.start();
    try {
      return found.get(180, TimeUnit.SECONDS);
    } catch (TimeoutException | InterruptedException e) {
      throw new IllegalStateException("the host did not print its addresses in 180 s", e);
    } catch (java.util.concurrent.ExecutionException e) {
      synchronized (early) {
        throw new IllegalStateException("the host failed to start:\n" + early, e.getCause());
      }
    }
  }
}
