package dev.graft.plugin.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import dev.graft.onnx.GraftException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStateTest {
  @TempDir Path tmp;

  private Path store;
  private Path folder;
  private ManifestLock lock;

  @BeforeEach
  void layout() throws Exception {
    store = Files.createDirectories(tmp.resolve("store"));
    folder = Files.createDirectories(store.resolve("mnist-vgg"));
    Files.write(store.resolve("noise.rws"), StateTestModel.bytes("gaussian_noise"));
    Files.write(store.resolve("blur.rws"), StateTestModel.bytes("gaussian_blur"));
    lock = StateTestModel.lockFor(folder);
  }

  private StateTestModel process(String writer) {
    StateTestModel m = new StateTestModel(store, folder, lock, writer);
    m.state.replay();
    return m;
  }

  @Test
  void aChangeIsInTheManifestBeforeTheWeightsSwap() {
    StateTestModel a = process("a");
    AtomicReference<Manifest> atSwap = new AtomicReference<>();
    a.runtime.beforeSwap = () -> atSwap.set(read());

    a.registerFile(store, "noise", "noise.rws", 0.5, true);

    assertThat(atSwap.get())
        .as("the manifest on disk when the runtime was asked to swap")
        .isNotNull();
    assertThat(atSwap.get().version()).isEqualTo(1);
    assertThat(atSwap.get().writer()).isEqualTo("a");
    assertThat(atSwap.get().adapters())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.name()).isEqualTo("noise");
              assertThat(e.file()).as("path in the store").isEqualTo("noise.rws");
              assertThat(e.alpha()).isEqualTo(0.5);
              assertThat(e.attached()).isTrue();
              assertThat(e.sha256())
                  .isEqualTo(ModelState.sha256(StateTestModel.bytes("gaussian_noise")));
            });
  }

  @Test
  void anUploadIsSavedInTheModelFolderBeforeTheManifestNamesIt() throws Exception {
    StateTestModel a = process("a");

    a.upload("blur", "gaussian_blur", 1.0, true);

    Path saved = folder.resolve("adapters/blur.rws");
    assertThat(saved).as("uploaded body kept in the model folder").exists();
    assertThat(Files.readAllBytes(saved)).isEqualTo(StateTestModel.bytes("gaussian_blur"));
    assertThat(read().adapters().get(0).file()).isEqualTo("mnist-vgg/adapters/blur.rws");
    assertThat(read().adapters().get(0).src()).isEqualTo("<request body>");
  }

  @Test
  void everyChangeWritesTheNextVersion() {
    StateTestModel a = process("a");
    a.registerFile(store, "noise", "noise.rws", 1.0, true);
    a.state.update("noise", OptionalDouble.of(0.25), Optional.empty());
    a.upload("blur", "gaussian_blur", 1.0, false);
    a.state.remove("noise");

    Manifest m = read();
    assertThat(m.version()).as("four changes, four versions").isEqualTo(4);
    assertThat(m.adapters()).extracting(AdapterEntry::name).containsExactly("blur");
    assertThat(a.state.version()).isEqualTo(4);
  }

  @Test
  void aRestartedProcessServesExactlyWhatWasServedBefore() {
    StateTestModel before = process("a");
    before.registerFile(store, "noise", "noise.rws", 0.5, true);
    before.upload("blur", "gaussian_blur", 1.25, true);
    before.upload("idle", "gaussian_noise", 2.0, false);
    before.state.update("noise", OptionalDouble.of(0.75), Optional.empty());

    StateTestModel after = process("b");

    assertThat(after.summary()).isEqualTo(before.summary());
    assertThat(after.adapters.snapshot().weights())
        .isEqualTo("blur@1.25+noise@0.75")
        .isEqualTo(before.adapters.snapshot().weights());
    assertThat(after.runtime.swaps)
        .as("replay swaps once, straight to the final state")
        .containsExactly("blur@1.25+noise@0.75");
    assertThat(after.state.problems()).isEmpty();
  }

  @Test
  void aFailedSwapWritesThePreviousStateBack() {
    StateTestModel a = process("a");
    a.registerFile(store, "noise", "noise.rws", 1.0, true);
    a.runtime.failSwaps = true;

    assertThatThrownBy(() -> a.upload("blur", "gaussian_blur", 1.0, true))
        .isInstanceOf(GraftException.class);

    Manifest m = read();
    assertThat(m.adapters()).extracting(AdapterEntry::name).containsExactly("noise");
    assertThat(m.version()).as("written (v2), then written back (v3)").isEqualTo(3);
    assertThat(folder.resolve("adapters/blur.rws")).as("upload removed again").doesNotExist();
  }

  @Test
  void aMissingSignatureLoadsTheModelWithoutItAndSaysWhy() throws Exception {
    StateTestModel a = process("a");
    a.registerFile(store, "noise", "noise.rws", 1.0, true);
    a.upload("blur", "gaussian_blur", 1.0, true);
    Files.delete(store.resolve("noise.rws"));

    StateTestModel b = process("b");

    assertThat(b.summary()).as("the other adapter still loads").containsExactly("blur@1.0:true");
    assertThat(b.state.problems())
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("adapter noise not loaded")
        .contains("no such file");
  }

  @Test
  void aChangedSignatureFileIsReportedAndNotApplied() throws Exception {
    process("a").registerFile(store, "noise", "noise.rws", 1.0, true);
    Files.write(store.resolve("noise.rws"), StateTestModel.bytes("gaussian_blur"));

    StateTestModel b = process("b");

    assertThat(b.summary()).isEmpty();
    assertThat(b.runtime.swaps).as("base served, nothing swapped").isEmpty();
    assertThat(b.state.problems()).singleElement().asString().contains("the file changed");
  }

  @Test
  void aTruncatedSignatureFileIsReportedAndNotApplied() throws Exception {
    process("a").upload("noise", "gaussian_noise", 1.0, true);
    Path saved = folder.resolve("adapters/noise.rws");
    byte[] whole = Files.readAllBytes(saved);
    Files.write(saved, java.util.Arrays.copyOf(whole, whole.length / 2));

    StateTestModel b = process("b");

    assertThat(b.summary()).isEmpty();
    assertThat(b.state.problems()).singleElement().asString().contains("adapter noise");
  }

  @Test
  void anUnreadableManifestServesTheBaseAndIsMovedAsideByTheNextChange() throws Exception {
    Files.writeString(folder.resolve("graft.json"), "{\"format\": 1, \"version\": ", UTF8);

    StateTestModel b = process("b");
    assertThat(b.summary()).isEmpty();
    assertThat(b.state.problems()).singleElement().asString().contains("unreadable manifest");

    b.registerFile(store, "noise", "noise.rws", 1.0, true);

    assertThat(read().adapters()).extracting(AdapterEntry::name).containsExactly("noise");
    assertThat(b.state.problems()).as("a fresh manifest was written").isEmpty();
    try (Stream<Path> files = Files.list(folder)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("the unreadable file is kept for the operator")
          .anyMatch(n -> n.startsWith("graft.json.unreadable-"));
    }
  }

  @Test
  void aManifestOfANewerFormatIsNotApplied() throws Exception {
    Files.writeString(
        folder.resolve("graft.json"), "{\"format\": 2, \"version\": 9, \"adapters\": []}", UTF8);

    StateTestModel b = process("b");

    assertThat(b.state.problems()).singleElement().asString().contains("format 2");
  }

  @Test
  void aReplicaAppliesANewerManifestOnRefresh() {
    StateTestModel a = process("a");
    StateTestModel b = process("b");
    a.registerFile(store, "noise", "noise.rws", 0.5, true);

    assertThat(b.state.refresh()).as("b sees a's change").isTrue();
    assertThat(b.summary()).containsExactly("noise@0.5:true");
    assertThat(b.state.version()).isEqualTo(1);
    assertThat(b.state.refresh()).as("nothing new the second time").isFalse();
    assertThat(a.state.refresh()).as("a's own write is not news to a").isFalse();
  }

  @Test
  void aChangeOnAStaleReplicaBuildsOnTheNewerManifest() {
    StateTestModel a = process("a");
    StateTestModel b = process("b");
    a.registerFile(store, "noise", "noise.rws", 1.0, true);

    b.upload("blur", "gaussian_blur", 1.0, true); // b never refreshed

    assertThat(read().version()).isEqualTo(2);
    assertThat(read().adapters()).extracting(AdapterEntry::name).containsExactly("blur", "noise");
    assertThat(a.state.refresh()).isTrue();
    assertThat(a.summary()).containsExactly("blur@1.0:true", "noise@1.0:true");
  }

  @Test
  void anOlderManifestIsIgnored() throws Exception {
    StateTestModel a = process("a");
    a.registerFile(store, "noise", "noise.rws", 1.0, true);
    byte[] v1 = Files.readAllBytes(folder.resolve("graft.json"));
    a.state.remove("noise");
    StateTestModel b = process("b");
    Files.write(folder.resolve("graft.json"), v1); // e.g. a stale copy synced back

    assertThat(b.state.refresh()).isFalse();
    assertThat(b.summary()).as("version 2 stays").isEmpty();
    assertThat(b.state.problems()).singleElement().asString().contains("older than the applied 2");
  }

  @Test
  void anEntryWhoseFileArrivesLateIsAppliedOnRefresh() throws Exception {
    process("a").registerFile(store, "noise", "noise.rws", 1.0, true);
    Path parked = Files.move(store.resolve("noise.rws"), tmp.resolve("parked.rws"));
    StateTestModel b = process("b");
    assertThat(b.summary()).isEmpty();

    Files.move(parked, store.resolve("noise.rws"));

    assertThat(b.state.refresh()).as("the file arrived").isTrue();
    assertThat(b.summary()).containsExactly("noise@1.0:true");
    assertThat(b.state.problems()).isEmpty();
  }

  @Test
  void anEntryThatCannotLoadIsKeptByOtherChangesUntilDeleted() throws Exception {
    process("a").registerFile(store, "noise", "noise.rws", 1.0, true);
    Files.delete(store.resolve("noise.rws"));
    StateTestModel b = process("b");

    b.upload("blur", "gaussian_blur", 1.0, true);
    assertThat(read().adapters())
        .as("the broken entry is not dropped by an unrelated change")
        .extracting(AdapterEntry::name)
        .containsExactly("blur", "noise");
    assertThatThrownBy(() -> b.upload("noise", "gaussian_noise", 1.0, true))
        .as("its name stays taken")
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.ALREADY_EXISTS));

    b.state.remove("noise");

    assertThat(read().adapters()).extracting(AdapterEntry::name).containsExactly("blur");
    assertThat(b.state.problems()).isEmpty();
  }

  @Test
  void removingAnUploadedAdapterDeletesItsFile() {
    StateTestModel a = process("a");
    a.upload("blur", "gaussian_blur", 1.0, true);

    a.state.remove("blur");

    assertThat(folder.resolve("adapters/blur.rws")).doesNotExist();
  }

  @Test
  void aDuplicateUploadLeavesTheExistingFileAlone() throws Exception {
    StateTestModel a = process("a");
    a.upload("noise", "gaussian_noise", 1.0, true);

    assertThatThrownBy(() -> a.upload("noise", "gaussian_blur", 1.0, true))
        .isInstanceOf(GraftException.class);

    assertThat(Files.readAllBytes(folder.resolve("adapters/noise.rws")))
        .as("the live adapter's file is not overwritten by a refused upload")
        .isEqualTo(StateTestModel.bytes("gaussian_noise"));
  }

  @Test
  void aManifestNamingAFileOutsideTheStoreIsNotFollowed() throws Exception {
    Files.write(tmp.resolve("outside.rws"), StateTestModel.bytes("gaussian_noise"));
    String sha = ModelState.sha256(StateTestModel.bytes("gaussian_noise"));
    Files.writeString(
        folder.resolve("graft.json"),
        "{\"format\":1,\"version\":1,\"adapters\":[{\"name\":\"x\",\"file\":\"../outside.rws\","
            + "\"sha256\":\""
            + sha
            + "\",\"bytes\":1,\"alpha\":1.0,\"attached\":true}]}",
        UTF8);

    StateTestModel b = process("b");

    assertThat(b.summary()).isEmpty();
    assertThat(b.state.problems()).singleElement().asString().contains("outside the model store");
  }

  @Test
  void aSectionIsWrittenBeforeItsChangeAndRestoredAtReplay() {
    List<JsonElement> restored = new ArrayList<>();
    StateSection heads = section("heads", restored::add);
    StateTestModel a = new StateTestModel(store, folder, lock, "a");
    a.state.addSection(heads);
    a.state.replay();
    assertThat(restored).as("no manifest yet: nothing to restore").isEmpty();

    AtomicReference<Manifest> during = new AtomicReference<>();
    a.state.change(
        "heads",
        new JsonPrimitive("v2"),
        () -> {
          during.set(read());
          return null;
        });

    assertThat(during.get().sections()).containsEntry("heads", new JsonPrimitive("v2"));
    StateTestModel b = new StateTestModel(store, folder, lock, "b");
    List<JsonElement> atB = new ArrayList<>();
    b.state.addSection(section("heads", atB::add));
    b.state.replay();
    assertThat(atB).containsExactly(new JsonPrimitive("v2"));
  }

  @Test
  void aSectionUnknownToThisProcessIsKeptByItsWrites() throws Exception {
    Files.writeString(
        folder.resolve("graft.json"),
        "{\"format\":1,\"version\":3,\"adapters\":[],\"heads\":{\"version\":2}}",
        UTF8);
    StateTestModel b = process("b");

    b.registerFile(store, "noise", "noise.rws", 1.0, true);

    assertThat(read().sections()).containsKey("heads");
    assertThat(read().version()).isEqualTo(4);
  }

  private static StateSection section(String key, Consumer<JsonElement> sink) {
    return new StateSection() {
      @Override
      public String key() {
        return key;
      }

      @Override
      public void restore(JsonElement state, Consumer<String> problems) {
        sink.accept(state.isJsonNull() ? null : state);
      }
    };
  }

  private Manifest read() {
    try {
      return StateTestModel.manifestIn(folder);
    } catch (Exception e) {
      throw new AssertionError("cannot read the manifest", e);
    }
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;
}
