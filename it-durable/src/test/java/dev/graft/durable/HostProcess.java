package dev.graft.durable;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Graft host as a user starts it, {@code java -jar host/target/graft-host.jar --config FILE},
 * in its own scratch folder (config file, plugin folder with the built plugin jar) on an ephemeral
 * loopback port, serving a model store the test owns (several hosts may share one store). Output
 * goes to a log file under {@code it-durable/target/host-logs} and is kept for failure messages.
 *
 * <p>{@link #kill} is a real {@code kill -9}; {@link #close} stops gracefully (SIGTERM), then
 * forcibly. Thread safe.
 */
final class HostProcess implements AutoCloseable {
  private static final Pattern BIND = Pattern.compile("Inference API bind to: (http://\\S+)");
  private static final Duration START = Duration.ofSeconds(90);

  private final String name;
  private final Process process;
  private final Path logFile;
  private final StringBuffer output = new StringBuffer(); // appended by the pump thread
  private final CompletableFuture<URI> bound = new CompletableFuture<>();
  private final Http http;

  private HostProcess(String name, Process process, Path logFile, String token) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
    Thread pump = new Thread(this::pump, "host-output-" + name);
    pump.setDaemon(true);
    pump.start();
    URI base;
    try {
      base = bound.get(START.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException(describe("interrupted while starting"), e);
    } catch (ExecutionException | TimeoutException e) {
      process.destroyForcibly();
      throw new IllegalStateException(describe("did not start"), e);
    }
    this.http = new Http(base, token);
  }

  /**
   * Starts a host on {@code store} with {@code load_models=ALL}.
   *
   * @param config extra {@code config.properties} entries
   * @param env extra environment variables (e.g. {@code SERVING_MANAGEMENT_TOKEN})
   * @param token the bearer token the returned client sends, or null
   */
  static HostProcess start(
      String name, Path store, Map<String, String> config, Map<String, String> env, String token) {
    try {
      Path work = Files.createTempDirectory("graft-host-" + name + "-");
      Path plugins = Files.createDirectories(work.resolve("plugins"));
      Files.copy(Repo.pluginJar(), plugins.resolve("graft-plugin.jar"));
      Map<String, String> all = new LinkedHashMap<>();
      all.put("inference_address", "http://127.0.0.1:0");
      // gRPC on a free port too: the default 8082 would collide between replicas and test runs
      all.put("grpc_address", "127.0.0.1:0");
      all.put("model_store", store.toString());
      all.put("load_models", "ALL");
      all.put("plugin_folder", plugins.toString());
      all.put("graft.executor.threads", "2");
      all.putAll(config);
      StringBuilder text = new StringBuilder();
      all.forEach(
          (k, v) -> text.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
      Path configFile = Files.writeString(work.resolve("config.properties"), text.toString());
      Path logs = Files.createDirectories(Path.of(System.getProperty("graft.it.logs", "target")));
      Path log = logs.resolve(name + "-" + System.currentTimeMillis() + ".log");
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
      command.addAll(List.of("-jar", Repo.hostJar().toString(), "--config", configFile.toString()));
      ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
      pb.redirectErrorStream(true);
      pb.environment().keySet().removeIf(k -> k.startsWith("SERVING_"));
      pb.environment().putAll(env);
      return new HostProcess(name, pb.start(), log, token);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A client of this host (sending the token given at start, if any). */
  Http http() {
    return http;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Resident memory of the process in KiB, from {@code /proc} (Linux). */
  long rssKib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      // process gone
    }
    return -1;
  }

  /** {@code kill -9}: the process gets no chance to finish anything. Returns once it is dead. */
  void kill() {
    process.destroyForcibly(); // SIGKILL on Linux
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(describe("survived SIGKILL"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * {@code kill -9} as soon as {@code written} holds (checked every 0.1 ms, for at most 60 s; a
   * management call's manifest write, say), usually while the call is still being applied. Returns
   * whether {@code answer} had already arrived at that moment.
   */
  boolean killWhen(BooleanSupplier written, String what, Future<?> answer) {
    Poll.until(
        Duration.ofSeconds(60),
        Duration.ofNanos(100_000),
        what,
        () -> written.getAsBoolean() ? true : null);
    boolean answered = answer.isDone();
    kill();
    return answered;
  }

  /** Everything the process printed so far. */
  String output() {
    return output.toString();
  }

  String describe(String what) {
    return "host " + name + " " + what + "\n--- output (" + logFile + ") ---\n" + output;
  }

  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void pump() {
    try (BufferedReader in =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        output.append(line).append('\n');
        log.write(line + "\n");
        log.flush();
        Matcher m = BIND.matcher(line);
        if (!bound.isDone() && m.find()) {
          bound.complete(URI.create(m.group(1)));
        }
      }
    } catch (IOException e) {
      output.append("[output pump failed: ").append(e).append("]\n");
    } finally {
      bound.completeExceptionally(new IllegalStateException("the process ended"));
    }
  }
}
