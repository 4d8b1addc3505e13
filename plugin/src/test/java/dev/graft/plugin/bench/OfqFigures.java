package dev.graft.plugin.bench;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The 2-bit OFQ figures of the suite: runs onnx-tools' {@code OfqBench} (packed 2-bit variants vs
 * fp32: file size, resident memory, latency; each variant in its own JVM) as a child process on the
 * suite's class path and turns its JSON rows into a report section. {@code bench/run} puts
 * onnx-tools' test classes on that class path.
 */
final class OfqFigures {
  private static final String MAIN = "dev.graft.onnx.bench.OfqBench";

  private OfqFigures() {}

  /** Runs the benchmark into {@code work/ofq} and returns its rows. */
  static JsonArray run(Path work, boolean quick) throws IOException, InterruptedException {
    Path dir = Files.createDirectories(work.resolve("ofq"));
    Path json = dir.resolve("ofq.json");
    Files.deleteIfExists(json);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"), MAIN));
    cmd.addAll(List.of("--dir", dir.toString(), "--json", json.toString()));
    if (quick) {
      cmd.addAll(List.of("--quick", "--no-deit"));
    }
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    if (p.waitFor() != 0 || !Files.isRegularFile(json)) {
      throw new IllegalStateException(MAIN + " failed (exit " + p.exitValue() + ")");
    }
    return new Gson().fromJson(Files.readString(json), JsonArray.class);
  }

  static String markdown(JsonArray rows, boolean quick) {
    StringBuilder md = new StringBuilder();
    md.append("## 2-bit OFQ ViTs vs fp32\n\n")
        .append(
            "onnx-tools' `OfqBench` (docs/ofq.md): each variant in its own JVM, EXTENDED_OPT, 2"
                + " intra-op threads, no spinning, the exact accuracy level unless the row says"
                + " otherwise. File: the file served (dequantize-at-load: the packed `dq` file);"
                + " rss load: VmRSS growth once the session is built; rss run: after the timed"
                + " runs (plus the activation arena); latency: median of the timed runs. Every"
                + " ratio (x) is to the fp32 row of the same model, measured in this run.")
        .append(quick ? " Quick run: the fixture ViT only.\n\n" : "\n\n");
    String subject = null;
    for (JsonElement e : rows) {
      JsonObject r = e.getAsJsonObject();
      if (!r.get("subject").getAsString().equals(subject)) {
        subject = r.get("subject").getAsString();
        md.append("\n")
            .append(subject)
            .append(", ")
            .append(r.get("runs").getAsInt())
            .append(" timed runs per batch size:\n\n")
            .append(
                "| variant | file MB | file x | rss load MB | rss load x | rss run MB | rss run x"
                    + " | b1 ms | b1 x | b8 ms | b8 x | load s |\n")
            .append(
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
                    + " ---: |\n");
      }
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.2f | %.3f | %.1f | %.3f | %.1f | %.3f | %.2f | %.3f | %.2f | %.3f | %.2f"
                  + " |%n",
              r.get("variant").getAsString(),
              r.get("fileBytes").getAsLong() / 1e6,
              r.get("fileX").getAsDouble(),
              r.get("rssLoadMb").getAsDouble(),
              r.get("rssLoadX").getAsDouble(),
              r.get("rssRunMb").getAsDouble(),
              r.get("rssRunX").getAsDouble(),
              r.get("b1Ms").getAsDouble(),
              r.get("b1X").getAsDouble(),
              r.get("b8Ms").getAsDouble(),
              r.get("b8X").getAsDouble(),
              r.get("loadS").getAsDouble()));
    }
    return md.append('\n').toString();
  }
}
