package dev.graft.plugin.state;

import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.patch.Adapter;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.patch.SignatureSource;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One "process" serving the clean VGG from a model folder: a recording runtime, its adapters and
 * its durable state. Several of them on one folder stand for replicas (sharing one {@link
 * ManifestLock}, as all models of one folder in a process do).
 */
final class StateTestModel {
  final RecordingRuntime runtime = new RecordingRuntime();
  final ModelAdapters adapters;
  final ModelState state;

  StateTestModel(Path store, Path folder, ManifestLock lock, String writer) {
    adapters = new ModelAdapters("vgg", Fixtures.vggModel("clean"), runtime);
    StateSettings settings =
        new StateSettings(
            true, writer, 64L << 20, Duration.ofSeconds(1), true, Duration.ofSeconds(5));
    state =
        new ModelState(
            "vgg",
            StateLocation.forFolder(folder),
            new ModelStore(store, Optional.empty()),
            adapters,
            lock,
            settings,
            Clock.systemUTC());
  }

  static ManifestLock lockFor(Path folder) {
    return new ManifestLock(StateLocation.forFolder(folder).lockFile(), Duration.ofSeconds(5));
  }

  static SignatureSource.Loaded body(String corruption) {
    return SignatureSource.fromBody(Fixtures.signature(corruption).toByteArray());
  }

  static byte[] bytes(String corruption) {
    return Fixtures.signature(corruption).toByteArray();
  }

  /** Registers {@code corruption}'s signature from the store file {@code src}. */
  Adapter registerFile(Path store, String name, String src, double alpha, boolean attach) {
    SignatureSource.Loaded loaded = SignatureSource.readFile(store.resolve(src), src, 64L << 20);
    return state.register(name, loaded, null, alpha, attach, false);
  }

  /** Registers {@code corruption}'s signature as an upload. */
  Adapter upload(String name, String corruption, double alpha, boolean attach) {
    byte[] bytes = bytes(corruption);
    return state.register(name, SignatureSource.fromBody(bytes), bytes, alpha, attach, false);
  }

  /** {@code name@alpha:attached} of every adapter, in name order. */
  List<String> summary() {
    return adapters.snapshot().adapters().stream()
        .map(a -> a.name() + "@" + a.alpha() + ":" + a.attached())
        .toList();
  }

  static Manifest manifestIn(Path folder) throws Exception {
    Path file = StateLocation.forFolder(folder).manifest();
    return Manifest.parse(Files.readAllBytes(file), file.toString());
  }
}
