package dev.graft.onnx.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.gen.VitGenerator;
import dev.graft.onnx.gen.VitSpec;
import dev.graft.onnx.ofq.OfqPacker;
import dev.graft.onnx.ofq.PackFormat;
import dev.graft.onnx.ofq.PackedModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Latency (batch 1 and 8) and resident memory of a ViT as fp32, fake-quant, packed nbits, packed dq
 * and packed-then-dequantized-at-load, for the fixture ViT and a generated DeiT-S-sized ViT, as
 * ratios to fp32. Every variant runs in its own JVM so its resident memory is its own: {@code
 * VmRSS} of {@code /proc/self/status} minus the JVM's before loading, once after the session is
 * built ("rss load": weights and session) and once after the timed runs ("rss run": plus ONNX
 * Runtime's activation arena). Sessions load from the file, so no Java copy of the weights counts;
 * "dequantize at load" is unpacked (timed, added to its load time) before its JVM starts. Not a
 * test: run it with
 *
 * <pre>
 * mvn -B -o -q -pl onnx-tools test-compile exec:exec -Dexec.executable=java \
 *     -Dexec.classpathScope=test \
 *     -Dexec.args="-cp %classpath dev.graft.onnx.bench.OfqBench [--quick] [--no-deit]"
 * </pre>
 *
 * <p>{@code --dir DIR}: where the packed models go (default {@code target/ofq-bench}); {@code
 * --json FILE}: also write every row, with its ratios to fp32, as JSON ({@code bench/run} does).
 *
 * <p>Sessions are EXTENDED_OPT, 2 intra-op threads, no spinning, and the exact accuracy level (what
 * Graft serves by default); two extra rows show the int8-activation MatMulNBits path (accuracy
 * level 4, faster, not exact). Latency is the median of timed runs after one warm-up.
 */
public final class OfqBench {
  private static final Gson GSON = new Gson();

  private OfqBench() {}

  /**
   * One row of the table.
   *
   * @param file what the session loads
   * @param stored what is on disk (the packed file for dequantize-at-load)
   * @param unpackS time spent expanding {@code stored} into {@code file}, part of the load time
   */
  private record Variant(
      String name, Path file, Path stored, double unpackS, Map<String, String> config) {}

  /** A benchmark subject: the variants of one architecture and its input shape. */
  private record Subject(String name, List<Variant> variants, long[] inputShape, int runs) {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(args);
      return;
    }
    List<String> flags = Arrays.asList(args);
    boolean quick = flags.contains("--quick");
    Path dir = Files.createDirectories(Path.of(value(flags, "--dir", "target/ofq-bench")));
    String json = value(flags, "--json", null);
    List<Subject> subjects = new ArrayList<>();
    subjects.add(fixture(dir, quick ? 20 : 100));
    if (!flags.contains("--no-deit")) {
      subjects.add(deitSmall(dir, quick ? 2 : 5));
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Subject s : subjects) {
      rows.addAll(run(s));
    }
    if (json != null) {
      Files.writeString(Path.of(json), GSON.toJson(rows));
    }
  }

  private static String value(List<String> flags, String name, String otherwise) {
    int i = flags.indexOf(name);
    return i >= 0 && i + 1 < flags.size() ? flags.get(i + 1) : otherwise;
  }

  private static Subject fixture(Path dir, int runs) {
    Path fixtures = fixtures();
    Path fp32 = fixtures.resolve("ofq/ofq-vit-fp32.onnx");
    Path fakeQuant = fixtures.resolve("ofq/ofq-vit-w2a2.onnx");
    return new Subject(
        "fixture ViT (6 blocks, embed 96, 50 tokens, 28x28)",
        variants(dir, "fixture", fp32, fakeQuant),
        new long[] {1, 1, 28, 28},
        runs);
  }

  private static Subject deitSmall(Path dir, int runs) {
    Path fp32 = dir.resolve("deit-s-fp32.onnx");
    Path fakeQuant = dir.resolve("deit-s-statsq.onnx");
    if (!Files.exists(fp32)) {
      VitGenerator.generate(VitSpec.deitSmall(1, false)).save(fp32);
    }
    if (!Files.exists(fakeQuant)) {
      VitGenerator.generate(VitSpec.deitSmall(1, true)).save(fakeQuant);
    }
    return new Subject(
        "generated DeiT-S (12 blocks, embed 384, 197 tokens, 224x224)",
        variants(dir, "deit-s", fp32, fakeQuant),
        new long[] {1, 3, 224, 224},
        runs);
  }

  private static List<Variant> variants(Path dir, String prefix, Path fp32, Path fakeQuant) {
    OnnxModel fq = OnnxModel.load(fakeQuant);
    Path nbits = dir.resolve(prefix + "-nbits.onnx");
    Path nbitsFast = dir.resolve(prefix + "-nbits-acc4.onnx");
    Path dq = dir.resolve(prefix + "-dq.onnx");
    OfqPacker.pack(fq, OfqPacker.Options.of(PackFormat.NBITS)).model().save(nbits);
    OfqPacker.pack(fq, new OfqPacker.Options(PackFormat.NBITS, 0, 4, false, true, Map.of()))
        .model()
        .save(nbitsFast);
    OfqPacker.pack(fq, OfqPacker.Options.of(PackFormat.DQ)).model().save(dq);
    // dequantize at load: unpack here, timed, so the child's resident memory is ONNX Runtime's
    Path dequantized = dir.resolve(prefix + "-dq-dequantized.onnx");
    long t0 = System.nanoTime();
    PackedModel.of(OnnxModel.load(dq)).orElseThrow().unpack().save(dequantized);
    double unpackS = (System.nanoTime() - t0) / 1e9;
    Map<String, String> exact = OfqPacker.EXACT_SESSION_CONFIG;
    return List.of(
        new Variant("fp32", fp32, fp32, 0, exact),
        new Variant("fake-quant", fakeQuant, fakeQuant, 0, exact),
        new Variant("packed nbits", nbits, nbits, 0, exact),
        new Variant("packed dq", dq, dq, 0, exact),
        new Variant("packed dq, dequantize at load", dequantized, dq, unpackS, exact),
        new Variant("packed nbits, accuracy 4 (int8, not exact)", nbitsFast, nbitsFast, 0, exact),
        new Variant("packed dq, ORT default (int8, not exact)", dq, dq, 0, Map.of()));
  }

  /**
   * Runs every variant of {@code s}, prints its table and returns its rows (for {@code --json}).
   */
  private static List<Map<String, Object>> run(Subject s) throws IOException, InterruptedException {
    List<Map<String, Object>> rows = new ArrayList<>();
    System.out.printf(
        "%n%s, %d timed runs per batch size, load average %s%n", s.name(), s.runs(), loadAverage());
    System.out.printf(
        "  %-44s %8s %9s %9s %9s %9s %7s %8s %8s %7s %7s%n",
        "variant",
        "file MB",
        "rss load",
        "rss run",
        "b1 ms",
        "b8 ms",
        "load s",
        "load x",
        "run x",
        "b1 x",
        "b8 x");
    JsonObject base = null;
    for (Variant v : s.variants()) {
      JsonObject r = spawn(v, s);
      if (base == null) {
        base = r;
      }
      System.out.printf(
          "  %-44s %8.2f %9.1f %9.1f %9.2f %9.2f %7.2f %8.3f %8.3f %7.3f %7.3f%n",
          v.name(),
          Files.size(v.stored()) / 1e6,
          r.get("rssLoadMb").getAsDouble(),
          r.get("rssRunMb").getAsDouble(),
          r.get("b1Ms").getAsDouble(),
          r.get("b8Ms").getAsDouble(),
          r.get("loadS").getAsDouble() + v.unpackS(),
          ratio(r, base, "rssLoadMb"),
          ratio(r, base, "rssRunMb"),
          ratio(r, base, "b1Ms"),
          ratio(r, base, "b8Ms"));
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("subject", s.name());
      row.put("variant", v.name());
      row.put("runs", s.runs());
      row.put("fileBytes", Files.size(v.stored()));
      row.put("rssLoadMb", r.get("rssLoadMb").getAsDouble());
      row.put("rssRunMb", r.get("rssRunMb").getAsDouble());
      row.put("b1Ms", r.get("b1Ms").getAsDouble());
      row.put("b8Ms", r.get("b8Ms").getAsDouble());
      row.put("loadS", r.get("loadS").getAsDouble() + v.unpackS());
      row.put("fileX", (double) Files.size(v.stored()) / Files.size(s.variants().get(0).stored()));
      for (String key : List.of("rssLoadMb", "rssRunMb", "b1Ms", "b8Ms")) {
        row.put(key.replace("Mb", "").replace("Ms", "") + "X", ratio(r, base, key));
      }
      rows.add(row);
    }
    return rows;
  }

  private static double ratio(JsonObject r, JsonObject base, String key) {
    return r.get(key).getAsDouble() / base.get(key).getAsDouble();
  }

  private static String loadAverage() throws IOException {
    Path p = Path.of("/proc/loadavg");
    return Files.exists(p) ? Files.readString(p).split(" ")[0] : "n/a";
  }

  /** Runs one variant in a fresh JVM and returns what it measured. */
  private static JsonObject spawn(Variant v, Subject s) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of(
            java,
            "-Xmx1g",
            "-XX:+UseSerialGC",
            "-XX:MinHeapFreeRatio=5",
            "-XX:MaxHeapFreeRatio=10",
            "-cp",
            System.getProperty("java.class.path"),
            OfqBench.class.getName(),
            "--child",
            v.file().toString(),
            GSON.toJson(v.config()),
            Integer.toString(s.runs())));
    for (long d : s.inputShape()) {
      cmd.add(Long.toString(d));
    }
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String last = null;
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        last = line;
      }
    }
    if (p.waitFor() != 0 || last == null) {
      throw new IllegalStateException(
          v.name() + ": benchmark process failed (" + p.exitValue() + ")");
    }
    return GSON.fromJson(last, JsonObject.class);
  }

  /** In the child JVM: load, warm up, time, measure; print one JSON line. */
  private static void child(String[] args) throws Exception {
    Path file = Path.of(args[1]);
    @SuppressWarnings("unchecked")
    Map<String, String> config = GSON.fromJson(args[2], Map.class);
    int runs = Integer.parseInt(args[3]);
    long[] shape = new long[args.length - 4];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = Long.parseLong(args[4 + i]);
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    System.gc();
    long rssBefore = rssKb();
    long t0 = System.nanoTime();
    OrtSession session;
    try (OrtSession.SessionOptions options = OrtClassifier.options(config)) {
      session = env.createSession(file.toString(), options); // no Java copy of the weights
    }
    double loadS = (System.nanoTime() - t0) / 1e9;
    System.gc();
    double rssLoadMb = (rssKb() - rssBefore) / 1024.0;
    String input = session.getInputNames().iterator().next();
    Map<String, Object> result = new LinkedHashMap<>();
    for (int batch : new int[] {1, 8}) {
      long[] s = shape.clone();
      s[0] = batch;
      float[] x = new float[Math.toIntExact(Arrays.stream(s).reduce(1, Math::multiplyExact))];
      Random rnd = new Random(batch);
      for (int i = 0; i < x.length; i++) {
        x[i] = rnd.nextFloat();
      }
      result.put("b" + batch + "Ms", medianMs(env, session, input, x, s, runs));
    }
    System.gc();
    result.put("rssLoadMb", rssLoadMb);
    result.put("rssRunMb", (rssKb() - rssBefore) / 1024.0);
    result.put("loadS", loadS);
    session.close();
    System.out.println(GSON.toJson(result));
  }

  private static double medianMs(
      OrtEnvironment env, OrtSession session, String input, float[] x, long[] shape, int runs)
      throws OrtException {
    double[] ms = new double[runs];
    for (int i = -1; i < runs; i++) {
      try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape)) {
        long t0 = System.nanoTime();
        session.run(Map.of(input, t)).close();
        if (i >= 0) {
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
    }
    Arrays.sort(ms);
    return ms[runs / 2];
  }

  private static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  private static Path fixtures() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("fixtures/ofq"))) {
        return p.resolve("fixtures");
      }
    }
    throw new IllegalStateException("no fixtures/ folder above " + Path.of("").toAbsolutePath());
  }
}
