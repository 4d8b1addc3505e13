package dev.graft.plugin.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.head.HeadHistory;
import dev.graft.plugin.head.HeadSettings;
import dev.graft.plugin.head.HeadVersion;
import dev.graft.plugin.head.ModelHead;
import dev.graft.plugin.head.WaFixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A head's versions in {@code graft.json}: written before they go live, replayed by a restarted
 * process, picked up by a replica, and reported (not fatal) when a version file is missing or
 * corrupt. Each "process" is a {@link ModelHead} loaded from the WA fixtures with its own {@link
 * ModelState} on one model folder.
 */
class HeadJournalTest {
  @TempDir Path tmp;

  private Path store;
  private Path folder;
  private ManifestLock lock;

  @BeforeEach
  void layout() throws Exception {
    store = Files.createDirectories(tmp.resolve("store"));
    folder = Files.createDirectories(store.resolve("mnist-wa"));
    lock = StateTestModel.lockFor(folder);
  }

  /** One process serving the head: its state attached and replayed, as when the model loads. */
  private record Proc(StateTestModel model, ModelHead head) {
    ModelState state() {
      return model.state;
    }
  }

  private Proc process(String writer) {
    return process(writer, 32);
  }

  private Proc process(String writer, int history) {
    StateTestModel m = new StateTestModel(store, folder, lock, writer);
    ModelHead head =
        ModelHead.of(
            "mnist-wa",
            new HeadSettings("digits", "features", "head-task0.safetensors", "logits", history),
            WaFixtures.head(0));
    HeadJournal.attach(head, m.state);
    m.state.replay();
    return new Proc(m, head);
  }

  @Test
  void aNewVersionIsInTheManifestAndItsFileOnDiskWhenItGoesLive() throws Exception {
    Proc a = process("a");

    HeadVersion v2 = a.head().addClasses(WaFixtures.head(1), AlignMode.WA);

    JsonObject entry = headsEntry();
    assertThat(entry.get("current").getAsInt()).isEqualTo(2);
    assertThat(entry.get("last").getAsInt()).isEqualTo(2);
    assertThat(entry.getAsJsonArray("versions")).hasSize(2);
    JsonObject recorded = entry.getAsJsonArray("versions").get(1).getAsJsonObject();
    Path file = folder.resolve(recorded.get("file").getAsString());
    byte[] bytes = Files.readAllBytes(file);
    assertThat(ModelState.sha256(bytes))
        .as("the file's digest is the one recorded")
        .isEqualTo(recorded.get("sha256").getAsString());
    assertThat(file.getFileName().toString())
        .as("content-addressed")
        .isEqualTo(recorded.get("sha256").getAsString() + ".safetensors");
    assertThat(ClassifierHead.parse(bytes, "v2"))
        .as("the file holds the aligned head that is served, bit for bit")
        .isEqualTo(v2.classifier())
        .isEqualTo(
            IncrementalStep.apply(WaFixtures.head(0), WaFixtures.head(1), AlignMode.WA).head());
    assertThat(manifest().version()).as("one manifest write per change").isEqualTo(1);
  }

  @Test
  void aVersionThatCannotBeSavedLeavesTheHeadAndTheManifestAsTheyWere() throws Exception {
    Proc a = process("a");
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    byte[] before = Files.readAllBytes(folder.resolve("graft.json"));
    Path dir = folder.resolve("heads/digits");
    Path aside = Files.move(dir, folder.resolve("heads/aside"));
    Files.writeString(dir, "a file where the folder belongs"); // the save must fail

    assertThatThrownBy(() -> a.head().addClasses(WaFixtures.head(2), AlignMode.WA))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INTERNAL));

    assertThat(a.head().current().version()).as("nothing went live").isEqualTo(2);
    assertThat(Files.readAllBytes(folder.resolve("graft.json")))
        .as("the manifest never names a file that is not there")
        .isEqualTo(before);
    Files.delete(dir);
    Files.move(aside, dir);
    assertThat(process("b").head().state()).isEqualTo(a.head().state());
  }

  @Test
  void aRefusedStepWritesNothing() throws Exception {
    Proc a = process("a");
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    byte[] before = Files.readAllBytes(folder.resolve("graft.json"));

    assertThatThrownBy(() -> a.head().addClasses(WaFixtures.head(1).slice(4, 7), AlignMode.WA))
        .as("labels 4-6 are already in the head")
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.ALREADY_EXISTS));

    assertThat(Files.readAllBytes(folder.resolve("graft.json"))).isEqualTo(before);
    assertThat(versionFiles()).as("v1 and v2 only").hasSize(2);
  }

  @Test
  void aRestartedProcessServesTheSameHistoryBitForBit() {
    Proc a = process("a");
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA); // v2
    a.head().addClasses(WaFixtures.head(2), AlignMode.NONE); // v3
    a.head().rollback(); // v2
    a.head().addClasses(WaFixtures.head(2), AlignMode.WA); // v4, a second branch from v2

    Proc b = process("b");

    assertThat(b.head().state())
        .as("kept versions (weights, steps, γ, creation times), current and last number")
        .isEqualTo(a.head().state());
    assertThat(b.head().current().tag()).isEqualTo("head:digits@v4");
    assertThat(b.state().problems()).isEmpty();
  }

  @Test
  void aRollbackIsReplayedAndNumbersAreNotReusedAfterARestart() {
    Proc a = process("a");
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    a.head().rollback();

    Proc b = process("b");
    assertThat(b.head().current().version()).as("rolled back to v1").isEqualTo(1);
    assertThat(b.head().state().lastVersion()).isEqualTo(2);

    HeadVersion next = b.head().addClasses(WaFixtures.head(1), AlignMode.NONE);
    assertThat(next.version()).as("v2 still names the WA-aligned weights").isEqualTo(3);
  }

  @Test
  void aReplicaPicksUpAHeadChangeOnRefresh() {
    Proc a = process("a");
    Proc b = process("b");

    a.head().addClasses(WaFixtures.head(1), AlignMode.WA);

    assertThat(b.head().current().version()).as("before the refresh").isEqualTo(1);
    b.state().refresh();
    assertThat(b.head().state()).isEqualTo(a.head().state());
    a.head().rollback();
    b.state().refresh();
    assertThat(b.head().current().version()).isEqualTo(1);
    assertThat(b.head().state()).isEqualTo(a.head().state());
  }

  @Test
  void aChangeOnAStaleReplicaBuildsOnTheNewerManifest() {
    Proc a = process("a");
    Proc b = process("b");
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA); // b never refreshed

    HeadVersion v3 = b.head().addClasses(WaFixtures.head(2), AlignMode.WA);

    assertThat(v3.version()).isEqualTo(3);
    assertThat(v3.parent()).as("built on a's v2, caught up first").isEqualTo(2);
    assertThat(v3.step().orElseThrow().oldLabels()).hasSize(7);
    a.state().refresh();
    assertThat(a.head().state()).isEqualTo(b.head().state());
  }

  @Test
  void evictedVersionsLoseTheirFiles() throws Exception {
    Proc a = process("a", 2);
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    a.head().addClasses(WaFixtures.head(2), AlignMode.WA);

    assertThat(a.head().history()).extracting(HeadVersion::version).containsExactly(2, 3);
    assertThat(versionFiles()).as("the files of v2 and v3 only").hasSize(2);
    assertThat(process("b", 2).head().state()).isEqualTo(a.head().state());
  }

  @Test
  void aMissingCurrentFileServesTheNearestLoadableAncestorAndSaysWhy() throws Exception {
    Proc a = process("a");
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    HeadVersion v3 = a.head().addClasses(WaFixtures.head(2), AlignMode.WA);
    Files.delete(fileOf(a, v3));

    Proc b = process("b");

    assertThat(b.head().current().version()).as("v3's parent").isEqualTo(2);
    assertThat(b.head().current().classifier()).isEqualTo(a.head().history().get(1).classifier());
    assertThat(b.state().problems())
        .anySatisfy(p -> assertThat(p).contains("v3 not loaded").contains("no such file"))
        .anySatisfy(p -> assertThat(p).contains("serving v2 instead of v3"));
  }

  @Test
  void aCorruptFileIsReportedAndNotServed() throws Exception {
    Proc a = process("a");
    HeadVersion v2 = a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    Path file = fileOf(a, v2);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 0x01; // one bit of the last weight
    Files.write(file, bytes);

    Proc b = process("b");

    assertThat(b.head().current().version()).isEqualTo(1);
    assertThat(b.head().current().classifier()).isEqualTo(WaFixtures.head(0));
    assertThat(b.state().problems())
        .anySatisfy(p -> assertThat(p).contains("v2 not loaded").contains("the file changed"));
  }

  @Test
  void aFileThatArrivesLateIsServedAfterTheNextRefresh() throws Exception {
    Proc a = process("a");
    HeadVersion v2 = a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    Path file = fileOf(a, v2);
    Path parked = Files.move(file, tmp.resolve("parked"));
    Proc b = process("b");
    assertThat(b.head().current().version()).isEqualTo(1);

    Files.move(parked, file);
    b.state().refresh();

    assertThat(b.head().state()).isEqualTo(a.head().state());
    assertThat(b.state().problems()).isEmpty();
  }

  @Test
  void theNextChangeRecordsTheHistoryActuallyServed() throws Exception {
    Proc a = process("a");
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    HeadVersion v3 = a.head().addClasses(WaFixtures.head(2), AlignMode.WA);
    Files.delete(fileOf(a, v3));
    Proc b = process("b");

    HeadVersion v4 = b.head().addClasses(WaFixtures.head(2), AlignMode.NONE);

    assertThat(v4.version()).as("v3's number is not reused").isEqualTo(4);
    assertThat(v4.parent()).as("built on what b served").isEqualTo(2);
    assertThat(b.state().problems()).isEmpty();
    assertThat(headsEntry().getAsJsonArray("versions"))
        .extracting(e -> e.getAsJsonObject().get("version").getAsInt())
        .containsExactly(1, 2, 4);
    assertThat(process("c").head().state()).isEqualTo(b.head().state());
  }

  @Test
  void aMalformedHeadsSectionIsReportedAndTheHeadStaysAsLoaded() throws Exception {
    Files.writeString(
        folder.resolve("graft.json"),
        "{\"format\":1,\"version\":2,\"adapters\":[],\"heads\":{\"digits\":{\"current\":2}}}",
        StandardCharsets.UTF_8);

    Proc b = process("b");

    assertThat(b.head().current().version()).isEqualTo(1);
    assertThat(b.state().problems())
        .singleElement()
        .asString()
        .contains("heads: head digits")
        .contains("last");
  }

  @Test
  void aRecordNamingAFileOutsideTheHeadsFolderIsRefused() throws Exception {
    Proc a = process("a");
    a.head().addClasses(WaFixtures.head(1), AlignMode.WA);
    String text = Files.readString(folder.resolve("graft.json"));
    String sha =
        headsEntry()
            .getAsJsonArray("versions")
            .get(1)
            .getAsJsonObject()
            .get("sha256")
            .getAsString();
    Files.writeString(
        folder.resolve("graft.json"),
        text.replace("heads/digits/" + sha + ".safetensors", "../outside.safetensors"));

    Proc b = process("b");

    assertThat(b.head().current().version()).isEqualTo(1);
    assertThat(b.state().problems())
        .singleElement()
        .asString()
        .contains("file must be heads/digits/" + sha + ".safetensors");
  }

  @Test
  void inMemoryModeASectionChangeWritesNothing() throws Exception {
    StateTestModel m = new StateTestModel(store, folder, lock, "mem");
    ModelState memory =
        new ModelState(
            "mnist-wa",
            StateLocation.forFolder(folder),
            new ModelStore(store, Optional.empty()),
            m.adapters,
            lock,
            new StateSettings(
                false, "mem", 1 << 20, Duration.ofSeconds(1), false, Duration.ofSeconds(1)),
            Clock.systemUTC());

    String result =
        memory.change(
            "heads",
            write -> {
              write.accept(new JsonObject());
              return "applied";
            });

    assertThat(result).isEqualTo("applied");
    assertThat(folder.resolve("graft.json")).as("graft.state=memory").doesNotExist();
  }

  private Path fileOf(Proc p, HeadVersion v) {
    HeadHistory h = p.head().state();
    assertThat(h.kept()).contains(v);
    JsonObject entry = headsEntry();
    for (var e : entry.getAsJsonArray("versions")) {
      JsonObject o = e.getAsJsonObject();
      if (o.get("version").getAsInt() == v.version()) {
        return folder.resolve(o.get("file").getAsString());
      }
    }
    throw new AssertionError("v" + v.version() + " is not recorded");
  }

  private List<Path> versionFiles() throws Exception {
    try (Stream<Path> files = Files.list(folder.resolve("heads/digits"))) {
      return files.filter(f -> f.toString().endsWith(".safetensors")).toList();
    }
  }

  private Manifest manifest() {
    try {
      return StateTestModel.manifestIn(folder);
    } catch (Exception e) {
      throw new AssertionError("cannot read the manifest", e);
    }
  }

  private JsonObject headsEntry() {
    return JsonParser.parseString(manifest().sections().get("heads").toString())
        .getAsJsonObject()
        .getAsJsonObject("digits");
  }
}
