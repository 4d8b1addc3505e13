package dev.graft.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.graft.onnx.rws.Fingerprint;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.onnx.rws.proto.RwsFile;
import dev.graft.onnx.safetensors.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * How deep a fuzzing corpus reaches: replays every file of a corpus folder through the parser the
 * fuzz test drives and counts the files accepted and the refusals by message (numbers and names
 * blanked). A corpus whose files all stop at the first check has not exercised the decoder behind
 * it. Run from the repository root after a fuzzing run:
 *
 * <pre>{@code
 * mvn -pl onnx-tools test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.graft.onnx.FuzzCorpusReplay \
 *     -Dexec.args="rws-sealed onnx-tools/.cifuzz-corpus/dev.graft.onnx.rws.RwsSignatureFuzzTest/decodeSealed"
 * }</pre>
 *
 * <p>Formats: {@code rws} (raw bytes), {@code rws-sealed} (re-sealed by {@link FuzzSeeds#sealed},
 * as {@code RwsSignatureFuzzTest#decodeSealed} does), {@code onnx}, {@code safetensors}.
 */
public final class FuzzCorpusReplay {
  private FuzzCorpusReplay() {}

  public static void main(String[] args) throws IOException {
    String format = args[0];
    Map<String, Integer> outcomes = new TreeMap<>();
    long decodedValues = 0;
    List<Path> files;
    try (Stream<Path> s = Files.list(Path.of(args[1]))) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    Path modelDir = Files.createTempDirectory("graft-replay");
    Files.write(
        modelDir.resolve(OnnxModelFuzzTest.DATA_FILE), new byte[OnnxModelFuzzTest.DATA_BYTES]);
    for (Path f : files) {
      byte[] bytes = Files.readAllBytes(f);
      String outcome;
      try {
        decodedValues += replay(format, bytes, modelDir);
        outcome = "accepted";
      } catch (GraftException e) {
        outcome = "refused: " + blank(e.getMessage());
      } catch (InvalidProtocolBufferException e) {
        outcome = "not a protobuf message (harness returns early)";
      } catch (RuntimeException | Error e) { // what the fuzz test would report as a finding
        outcome = "FINDING: " + e;
      }
      outcomes.merge(outcome, 1, Integer::sum);
    }
    System.out.printf("%d files in %s%n", files.size(), args[1]);
    outcomes.forEach((k, v) -> System.out.printf("%6d  %s%n", v, k));
    System.out.printf("values decoded from accepted files: %d%n", decodedValues);
  }

  private static long replay(String format, byte[] bytes, Path modelDir)
      throws InvalidProtocolBufferException {
    long values = 0;
    switch (format) {
      case "rws" -> values = count(RwsSignature.parse(bytes, "fuzz"));
      case "rws-sealed" ->
          values = count(RwsSignature.parse(FuzzSeeds.sealed(RwsFile.parseFrom(bytes)), "fuzz"));
      case "onnx" -> {
        OnnxModel model = OnnxModel.parse(bytes, modelDir, "fuzz");
        model.layers();
        for (String name : model.tensors().keySet()) {
          values += model.floatTensor(name).data().length; // an integer tensor is a refusal here
        }
        Fingerprint.of(model);
      }
      case "safetensors" -> {
        SafeTensors s = SafeTensors.parse(bytes, "fuzz");
        for (SafeTensors.Entry e : s.entries().values()) {
          values += s.floatTensor(e.name()).data().length;
        }
      }
      default -> throw new IllegalArgumentException("unknown format " + format);
    }
    return values;
  }

  private static long count(RwsSignature s) {
    return s.deltas().stream().mapToLong(t -> t.data().length).sum();
  }

  /** The message with its source, quoted names and numbers blanked, cut at the first '('. */
  private static String blank(String message) {
    String m = message.replaceFirst("^fuzz: ", "");
    int paren = m.indexOf(" (");
    if (paren > 0) {
      m = m.substring(0, paren);
    }
    return m.replaceAll("tensor \\S+", "tensor T")
        .replaceAll("'[^']*'", "'…'")
        .replaceAll("\\[[^\\]]*\\]", "[…]")
        .replaceAll("-?\\d+", "N");
  }
}
