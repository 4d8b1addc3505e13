package dev.graft.plugin.state;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.patch.Adapter;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.patch.SignatureSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The durable state of one served model: its {@code graft.json} manifest, replayed when the model
 * loads, written before every change goes live, and re-read when another replica changed it.
 *
 * <p><b>Write-ahead.</b> Every change of the adapters, and of the sections of other features (the
 * classifier head, see {@link HeadJournal}), is validated, then written to the manifest
 * (atomically: temp file, fsync, rename, fsync of the folder), then applied. A process killed at
 * any point therefore restarts into the last manifest written: the state before the change, or the
 * state after it even when the swap had not happened yet (replay applies it). A signature uploaded
 * in a request body is first saved as {@code adapters/<name>.rws}, so the manifest never names a
 * file that is not there. When the swap fails the manifest is rewritten with the previous state.
 *
 * <p><b>Replicas.</b> Changes hold {@link ManifestLock} (in-process and file lock) and first catch
 * up with the manifest on disk, so two replicas never write the same version. {@link #refresh}
 * applies a manifest written elsewhere when its version is newer than the applied one, or equal
 * with other content (the file wins a race).
 *
 * <p><b>Problems.</b> An entry whose file is missing, has another digest, is not a valid signature
 * or does not fit the model is not applied: the model serves without it and {@link #problems} says
 * why. The entry stays in the manifest (so a file that arrives late, e.g. from an object-store
 * sync, is picked up by the next {@link #refresh}) until it is deleted. An unreadable manifest
 * leaves the model as it is (base weights at start-up) and is reported the same way; the next
 * change moves it aside to {@code graft.json.unreadable-<millis>} and writes a fresh one.
 *
 * <p>Thread safe: everything runs under the model's change lock ({@link ModelAdapters#withLock}),
 * which inference never takes; {@link #problems} is a lock-free snapshot.
 */
public final class ModelState implements ModelAdapters.Journal {
  private static final Logger LOG = Logger.getLogger(ModelState.class.getName());
  private static final long MAX_MANIFEST_BYTES = 16L << 20;

  private final String model;
  private final StateLocation location;
  private final ModelStore store;
  private final ModelAdapters adapters;
  private final ManifestLock lock;
  private final StateSettings settings;
  private final Clock clock;
  private final List<StateSection> sections = new ArrayList<>(); // guarded by the change lock

  // guarded by the change lock (adapters.withLock)
  private Manifest applied = Manifest.EMPTY;
  private String appliedHash = "";
  private final Map<String, Unresolved> unresolved = new TreeMap<>();
  private final List<String> manifestProblems = new ArrayList<>();
  private final Map<String, List<String>> sectionProblems = new TreeMap<>();

  private volatile List<String> problems = List.of();

  /** A manifest entry that could not be applied, with why and the file's state at the time. */
  private record Unresolved(AdapterEntry entry, String problem, String stamp) {}

  /** What is on disk: a manifest (null when absent) and its hash, or why it cannot be read. */
  private record Disk(Manifest manifest, String hash, String problem) {}

  ModelState(
      String model,
      StateLocation location,
      ModelStore store,
      ModelAdapters adapters,
      ManifestLock lock,
      StateSettings settings,
      Clock clock) {
    this.model = model;
    this.location = location;
    this.store = store;
    this.adapters = adapters;
    this.lock = lock;
    this.settings = settings;
    this.clock = clock;
    if (settings.durable()) {
      adapters.useJournal(this);
    }
  }

  /** Where the manifest and uploads live. */
  public StateLocation location() {
    return location;
  }

  /** The version of the manifest this model serves (0 before the first change). */
  public long version() {
    return adapters.withLock(() -> applied.version());
  }

  /** What could not be applied, one message each; empty when the model serves its manifest. */
  public List<String> problems() {
    return problems;
  }

  /** Adds a section restored from the manifest; call before {@link #replay}. */
  public void addSection(StateSection section) {
    adapters.withLock(() -> sections.add(section));
  }

  /** Applies the manifest on disk, if any: called once, before the model serves. */
  public void replay() {
    if (!settings.durable()) {
      return;
    }
    adapters.withLock(
        () -> {
          Disk disk = readDisk();
          if (disk.problem() != null) {
            report(disk.problem() + "; serving the base model");
          } else if (disk.manifest() != null) {
            apply(disk.manifest(), disk.hash());
            LOG.info(
                "Model "
                    + model
                    + ": replayed "
                    + location.manifest().getFileName()
                    + " version "
                    + applied.version()
                    + " ("
                    + adapters.snapshot().weights()
                    + ")"
                    + (problems.isEmpty() ? "" : " with problems " + problems));
          }
          return null;
        });
  }

  /**
   * Applies the manifest on disk when another process changed it, and retries entries that could
   * not be applied when their file changed. Called by the watcher.
   *
   * @return whether the live state changed
   */
  public boolean refresh() {
    if (!settings.durable()) {
      return false;
    }
    return adapters.withLock(() -> sync(readDisk()));
  }

  /**
   * Registers an adapter durably; see {@link ModelAdapters#register}.
   *
   * @param upload the signature's bytes when it came in the request body (saved as {@code
   *     adapters/<name>.rws} first), else {@code null}
   */
  public Adapter register(
      String name,
      SignatureSource.Loaded loaded,
      byte[] upload,
      double alpha,
      boolean attach,
      boolean transfer) {
    return transaction(
        () -> {
          requireResolved(name);
          if (upload == null || !settings.durable()) {
            return adapters.register(name, loaded, alpha, attach, transfer);
          }
          if (adapters.snapshot().adapters().stream().anyMatch(a -> a.name().equals(name))) {
            throw new GraftException(
                GraftException.Code.ALREADY_EXISTS,
                "model " + model + " already has an adapter named " + name);
          }
          Path file = location.upload(name);
          AtomicFiles.write(file, upload);
          try {
            return adapters.register(name, loaded, alpha, attach, transfer);
          } catch (RuntimeException | Error e) {
            AtomicFiles.deleteQuietly(file); // no manifest names it now
            throw e;
          }
        });
  }

  /** Changes an adapter durably; see {@link ModelAdapters#update}. */
  public Adapter update(String name, OptionalDouble alpha, Optional<Boolean> attach) {
    return transaction(
        () -> {
          requireResolved(name);
          return adapters.update(name, alpha, attach);
        });
  }

  /**
   * Removes an adapter durably (detaching it first), also one that could not be loaded, and deletes
   * its uploaded file.
   */
  public void remove(String name) {
    transaction(
        () -> {
          Unresolved broken = unresolved.get(name);
          if (broken != null) {
            unresolved.remove(name);
            record(adapters.snapshot().adapters());
            publishProblems();
            deleteUpload(name, broken.entry().src());
            return null;
          }
          String src = adapters.get(name).source().src();
          adapters.remove(name);
          deleteUpload(name, src);
          return null;
        });
  }

  /**
   * Changes section {@code key} durably: writes {@code next} to the manifest, then runs {@code
   * apply}; when {@code apply} throws, the previous value is written back. Runs under the model's
   * change lock, after catching up with changes made elsewhere.
   */
  public <T> T change(String key, JsonElement next, Supplier<T> apply) {
    return change(
        key,
        write -> {
          write.accept(next);
          return apply.get();
        });
  }

  /**
   * Changes section {@code key} durably, computing its new value after catching up: runs {@code
   * change} under the model's change lock and the manifest's lock, after applying any newer
   * manifest (which restores every section, so {@code change} starts from the latest state). {@code
   * change} validates, then calls the writer it is given with the section's new value ({@code null}
   * removes the key), which writes the manifest as the next version, then makes the change live.
   * When {@code change} throws after writing, the previous value is written back; before writing,
   * nothing was written. With {@code graft.state=memory} the writer writes nothing.
   *
   * @throws GraftException {@code UNAVAILABLE} when another change holds the lock too long, {@code
   *     INTERNAL} when the manifest cannot be written, whatever {@code change} throws
   */
  public <T> T change(String key, Function<Consumer<JsonElement>, T> change) {
    if (!settings.durable()) {
      return adapters.withLock(() -> change.apply(next -> {}));
    }
    return transaction(
        () -> {
          JsonElement previous = applied.sections().get(key);
          boolean[] written = {false};
          try {
            T result =
                change.apply(
                    next -> {
                      write(applied.withSection(key, next));
                      written[0] = true;
                    });
            if (written[0]) { // what the section reported may be settled by the change
              sections.stream().filter(s -> s.key().equals(key)).forEach(this::restore);
              publishProblems();
            }
            return result;
          } catch (RuntimeException | Error e) {
            if (written[0]) {
              try {
                write(applied.withSection(key, previous));
              } catch (RuntimeException undo) {
                e.addSuppressed(undo);
              }
            }
            throw e;
          }
        });
  }

  /** The journal of {@link ModelAdapters}: writes {@code next} before it goes live. */
  @Override
  public void record(List<Adapter> next) {
    adapters.withLock(
        () -> {
          List<AdapterEntry> entries = new ArrayList<>();
          for (Adapter a : next) {
            entries.add(entry(a));
          }
          for (Unresolved u : unresolved.values()) {
            entries.add(u.entry()); // kept until deleted: its file may still arrive
          }
          entries.sort((x, y) -> x.name().compareTo(y.name()));
          write(applied.withAdapters(entries));
          return null;
        });
  }

  private <T> T transaction(Supplier<T> action) {
    if (!settings.durable()) {
      return adapters.withLock(action);
    }
    return adapters.withLock(
        () -> {
          try (ManifestLock.Hold held = lock.acquire()) {
            sync(readDisk()); // catch up with other replicas before changing anything
            return action.get();
          }
        });
  }

  /** Writes {@code content} as the next version. Caller holds the change lock. */
  private void write(Manifest content) {
    try (ManifestLock.Hold held = lock.acquire()) {
      Disk disk = readDisk();
      long onDisk = disk.manifest() == null ? 0 : disk.manifest().version();
      if (disk.problem() != null) {
        moveAside();
      }
      Manifest next =
          content.successor(
              Math.max(applied.version(), onDisk) + 1,
              settings.writer(),
              clock.instant().toString());
      byte[] bytes = next.toJson();
      AtomicFiles.write(location.manifest(), bytes);
      applied = next;
      appliedHash = sha256(bytes);
      manifestProblems.clear();
      publishProblems();
    }
  }

  /** Applies {@code disk} when it is newer; retries unresolved entries. Caller holds the lock. */
  private boolean sync(Disk disk) {
    if (disk.problem() != null) {
      report(disk.problem() + "; still serving version " + applied.version());
      return false;
    }
    if (disk.manifest() == null) {
      if (applied.version() > 0) {
        report(
            manifestProblem(
                location.manifest().getFileName()
                    + " is missing; still serving version "
                    + applied.version()));
      }
      return false;
    }
    if (disk.hash().equals(appliedHash)) {
      if (!manifestProblems.isEmpty()) {
        manifestProblems.clear();
        publishProblems();
      }
      boolean adaptersChanged = retryUnresolved();
      return retrySections() || adaptersChanged;
    }
    long version = disk.manifest().version();
    if (version < applied.version()) {
      report(
          manifestProblem(
              location.manifest().getFileName()
                  + " holds version "
                  + version
                  + ", older than the applied "
                  + applied.version()
                  + ": ignored"));
      return false;
    }
    apply(disk.manifest(), disk.hash());
    LOG.info(
        "Model "
            + model
            + ": applied "
            + location.manifest().getFileName()
            + " version "
            + version
            + " by "
            + disk.manifest().writer()
            + " ("
            + adapters.snapshot().weights()
            + ")");
    return true;
  }

  /** Makes {@code manifest} live, skipping (and reporting) entries that cannot be applied. */
  private void apply(Manifest manifest, String hash) {
    List<Adapter> live = new ArrayList<>();
    Map<String, Unresolved> broken = new LinkedHashMap<>();
    for (AdapterEntry e : manifest.adapters()) {
      String stamp = stamp(e);
      try {
        live.add(resolve(e));
      } catch (GraftException ex) {
        broken.put(e.name(), new Unresolved(e, ex.getMessage(), stamp));
      }
    }
    try {
      adapters.restore(live);
    } catch (GraftException ex) { // e.g. the session cannot be built: serve what was live
      for (Adapter a : live) {
        AdapterEntry e =
            manifest.adapters().stream()
                .filter(x -> x.name().equals(a.name()))
                .findFirst()
                .orElseThrow();
        broken.put(a.name(), new Unresolved(e, "cannot apply: " + ex.getMessage(), stamp(e)));
      }
    }
    unresolved.clear();
    unresolved.putAll(broken);
    applied = manifest;
    appliedHash = hash;
    manifestProblems.clear();
    sectionProblems.clear();
    for (StateSection s : sections) {
      restore(s);
    }
    publishProblems();
    broken.values().forEach(u -> LOG.warning("Model " + model + ": " + describe(u)));
  }

  /** Restores section {@code s} from the applied manifest, noting its problems. */
  private void restore(StateSection s) {
    List<String> found = new ArrayList<>();
    JsonElement value = applied.sections().getOrDefault(s.key(), JsonNull.INSTANCE);
    try {
      s.restore(value, found::add);
    } catch (RuntimeException ex) {
      found.add("cannot restore: " + ex.getMessage());
    }
    if (found.isEmpty()) {
      sectionProblems.remove(s.key());
    } else {
      sectionProblems.put(s.key(), found);
    }
  }

  /**
   * Restores again the sections that had problems (a file named by the manifest may have arrived
   * since, e.g. from an object-store sync). Restoring an unchanged value is cheap for a section
   * that already serves it.
   *
   * @return whether the problems changed
   */
  private boolean retrySections() {
    if (sectionProblems.isEmpty()) {
      return false;
    }
    Map<String, List<String>> before = new TreeMap<>(sectionProblems);
    for (StateSection s : sections) {
      if (sectionProblems.containsKey(s.key())) {
        restore(s);
      }
    }
    if (before.equals(sectionProblems)) {
      return false;
    }
    publishProblems();
    return true;
  }

  /** Re-applies the manifest when the file of an unresolved entry changed since. */
  private boolean retryUnresolved() {
    boolean changed =
        unresolved.values().stream().anyMatch(u -> !u.stamp().equals(stamp(u.entry())));
    if (!changed) {
      return false;
    }
    String before = adapters.snapshot().weights();
    apply(applied, appliedHash);
    return !before.equals(adapters.snapshot().weights());
  }

  /** The adapter an entry describes, read and checked; GraftException says why not. */
  private Adapter resolve(AdapterEntry e) {
    Path file = store.resolve(e.file(), "adapter " + e.name() + " file");
    SignatureSource.Loaded read = SignatureSource.readFile(file, e.file(), settings.maxBytes());
    SignatureSource.Loaded loaded =
        new SignatureSource.Loaded(
            read.signature(),
            new SignatureSource(e.src(), read.source().bytes(), read.source().sha256()));
    if (!loaded.source().sha256().equals(e.sha256())) {
      throw GraftException.invalid(
          "%s has sha256 %s..., %s recorded %s...: the file changed",
          e.file(),
          loaded.source().sha256().substring(0, 12),
          location.manifest().getFileName(),
          e.sha256().substring(0, 12));
    }
    Adapter a =
        new Adapter(
            e.name(),
            model,
            loaded.source(),
            e.alpha(),
            e.attached(),
            e.transfer(),
            loaded.signature());
    adapters.check(a);
    return a;
  }

  private AdapterEntry entry(Adapter a) {
    SignatureSource s = a.source();
    Path file =
        SignatureSource.BODY.equals(s.src())
            ? location.upload(a.name())
            : store.resolve(s.src(), "src");
    return new AdapterEntry(
        a.name(),
        storePath(file),
        s.sha256(),
        s.bytes(),
        a.alpha(),
        a.attached(),
        a.transfer(),
        s.src());
  }

  /** {@code file} relative to the store ({@code /}-separated) when inside it, else absolute. */
  private String storePath(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    if (!absolute.startsWith(store.root())) {
      return absolute.toString();
    }
    List<String> parts = new ArrayList<>();
    store.root().relativize(absolute).forEach(p -> parts.add(p.toString()));
    return String.join("/", parts);
  }

  private void requireResolved(String name) {
    Unresolved u = unresolved.get(name);
    if (u != null) {
      throw new GraftException(
          GraftException.Code.ALREADY_EXISTS,
          "adapter "
              + name
              + " is in "
              + location.manifest().getFileName()
              + " but could not be loaded ("
              + u.problem()
              + "); delete it first");
    }
  }

  private void deleteUpload(String name, String src) {
    if (settings.durable() && SignatureSource.BODY.equals(src)) {
      AtomicFiles.deleteQuietly(location.upload(name));
    }
  }

  private Disk readDisk() {
    Path file = location.manifest();
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes((int) MAX_MANIFEST_BYTES + 1);
    } catch (NoSuchFileException e) {
      return new Disk(null, "", null);
    } catch (IOException e) {
      return new Disk(null, "", file.getFileName() + " cannot be read: " + e.getMessage());
    }
    if (bytes.length > MAX_MANIFEST_BYTES) {
      return new Disk(null, "", file.getFileName() + " is larger than " + MAX_MANIFEST_BYTES);
    }
    try {
      return new Disk(Manifest.parse(bytes, file.getFileName().toString()), sha256(bytes), null);
    } catch (GraftException e) {
      return new Disk(null, "", "unreadable manifest " + e.getMessage());
    }
  }

  private void moveAside() {
    Path file = location.manifest();
    Path aside = file.resolveSibling(file.getFileName() + ".unreadable-" + clock.millis());
    try {
      Files.move(file, aside);
      LOG.warning("Model " + model + ": moved the unreadable " + file + " to " + aside);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "Model " + model + ": cannot move " + file + " aside", e);
    }
  }

  /** The file's size and modification time, or {@code missing}: retry when it changes. */
  private String stamp(AdapterEntry e) {
    try {
      Path file = store.resolve(e.file(), "file");
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return a.size() + "@" + a.lastModifiedTime().toMillis() + "#" + a.fileKey();
    } catch (IOException | GraftException ex) {
      return "missing";
    }
  }

  private String manifestProblem(String text) {
    return location.manifest().getFileName() + ": " + text;
  }

  private void report(String problem) {
    if (manifestProblems.size() == 1 && manifestProblems.get(0).equals(problem)) {
      return;
    }
    manifestProblems.clear();
    manifestProblems.add(problem);
    LOG.warning("Model " + model + ": " + problem);
    publishProblems();
  }

  private void publishProblems() {
    List<String> all = new ArrayList<>(manifestProblems);
    unresolved.values().forEach(u -> all.add(describe(u)));
    sectionProblems.forEach((k, list) -> list.forEach(p -> all.add(k + ": " + p)));
    problems = List.copyOf(all);
  }

  private static String describe(Unresolved u) {
    return "adapter " + u.entry().name() + " not loaded: " + u.problem();
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
