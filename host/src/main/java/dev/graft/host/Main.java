package dev.graft.host;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.logging.LogManager;

/**
 * Command line: {@code java -jar graft-host.jar [--config FILE]}.
 *
 * <p>Without {@code --config} the host reads {@code config/config.properties} under the working
 * directory if it exists, else runs on defaults. Logging (java.util.logging, to stderr) is read
 * from {@code logging.properties} beside the config file, else {@code config/logging.properties},
 * unless {@code java.util.logging.config.file} is set; stdout carries only the start-up lines of
 * {@link GraftHost#start}.
 *
 * <p>Exit codes: 2 for bad arguments or configuration, 1 when start-up fails (a plugin cannot be
 * loaded, an address cannot be bound), each with a one-line message on stderr. Once started, the
 * host runs until the JVM is asked to stop; a shutdown hook then closes it.
 */
public final class Main {

  static final int EXIT_CONFIG = 2;
  static final int EXIT_START_FAILED = 1;

  private static final String DEFAULT_CONFIG = "config/config.properties";
  private static final String ONE_LINE_FORMAT = "%1$tF %1$tT %4$s %3$s - %5$s%6$s%n";
  private static final String USAGE = "Usage: graft-host [--config FILE]";

  private Main() {}

  public static void main(String[] args) {
    int code = run(args, System.getenv(), Path.of("").toAbsolutePath(), System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * Starts the host and blocks until it is shut down, or returns the exit code of a failure after
   * printing its message to {@code err}.
   */
  static int run(
      String[] args, Map<String, String> env, Path workDir, PrintStream out, PrintStream err) {
    if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
      out.println(USAGE);
      return 0;
    }
    GraftHost host;
    try {
      Path configFile = configFile(args, workDir);
      configureLogging(configFile, workDir);
      HostConfig config = HostConfig.load(configFile, env, workDir);
      host = GraftHost.start(config, new PluginLoader(), out);
    } catch (ConfigException e) {
      err.println("graft-host: " + oneLine(e.getMessage()));
      return EXIT_CONFIG;
    } catch (PluginLoadException | IOException | RuntimeException e) {
      err.println("graft-host: start-up failed: " + oneLine(e.getMessage()));
      return EXIT_START_FAILED;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(host::close, "graft-host-shutdown"));
    host.awaitTermination();
    return 0;
  }

  /** The config file to read, or null for defaults. */
  static Path configFile(String[] args, Path workDir) throws ConfigException {
    if (args.length == 0) {
      Path fallback = workDir.resolve(DEFAULT_CONFIG);
      return Files.exists(fallback) ? fallback : null;
    }
    String value = null;
    if (args.length == 2 && args[0].equals("--config")) {
      value = args[1];
    } else if (args.length == 1 && args[0].startsWith("--config=")) {
      value = args[0].substring("--config=".length());
    }
    if (value == null || value.isBlank()) {
      throw new ConfigException("bad arguments " + String.join(" ", args) + ". " + USAGE);
    }
    return workDir.resolve(value);
  }

  private static String oneLine(String message) {
    return String.valueOf(message).replaceAll("\\s*[\\r\\n]+\\s*", " ");
  }

  private static void configureLogging(Path configFile, Path workDir) {
    if (System.getProperty("java.util.logging.config.file") != null
        || System.getProperty("java.util.logging.config.class") != null) {
      return;
    }
    Path beside = configFile == null ? null : configFile.resolveSibling("logging.properties");
    Path fallback = workDir.resolve("config/logging.properties");
    for (Path candidate : new Path[] {beside, fallback}) {
      if (candidate != null && Files.isRegularFile(candidate)) {
        try (InputStream in = Files.newInputStream(candidate)) {
          LogManager.getLogManager().readConfiguration(in);
          return;
        } catch (IOException e) {
          System.err.println("graft-host: ignoring " + candidate + ": " + e.getMessage());
        }
      }
    }
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", ONE_LINE_FORMAT);
    }
  }
}
