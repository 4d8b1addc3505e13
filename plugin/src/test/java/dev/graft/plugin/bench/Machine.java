package dev.graft.plugin.bench;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the numbers were measured on: the facts every report starts with. */
final class Machine {
  private Machine() {}

  static Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("nproc", Runtime.getRuntime().availableProcessors());
    m.put("memTotalMiB", memTotalKiB() / 1024);
    m.put("cpu", cpuModel());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("onnxRuntime", OrtEnvironment.getEnvironment().getVersion());
    m.put("jmh", "1.37");
    m.put("loadAverageAtStart", loadAverage());
    return m;
  }

  /** The 1, 5 and 15 minute load averages: on a shared machine, the figures' context. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static long memTotalKiB() {
    return field(Path.of("/proc/meminfo"), "MemTotal:").map(Long::parseLong).orElse(-1L);
  }

  private static String cpuModel() {
    return field(Path.of("/proc/cpuinfo"), "model name").orElse("unknown");
  }

  private static java.util.Optional<String> field(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key)) {
          String v = line.substring(line.indexOf(':') + 1).strip();
          return java.util.Optional.of(v.split("\\s+kB")[0].strip());
        }
      }
    } catch (IOException e) {
      // not Linux: reported as unknown
    }
    return java.util.Optional.empty();
  }
}
