package dev.graft.plugin.state;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.safetensors.SafeTensors;
import dev.graft.plugin.head.HeadHistory;
import dev.graft.plugin.head.HeadVersion;
import dev.graft.plugin.head.ModelHead;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The durable state of a model's classifier head: the {@code heads} section of {@code graft.json}
 * (see {@link HeadRecords} for its format) and the version files under {@code heads/<head>/}.
 *
 * <p><b>What is stored.</b> The weights of every kept version exactly as they were served (the
 * aligned head, float32 safetensors with its labels and, as metadata, the step that made it: γ, the
 * norms, the labels), content-addressed as {@code heads/<head>/<sha256>.safetensors}, and in the
 * manifest per version its number, parent, creation time and file digest. Not the request bodies
 * with γ: rebuilding a version from its inputs would need every ancestor's file and the same
 * floating-point arithmetic in whatever Graft replays it, and one lost file would lose every later
 * version. The served weights replay bit for bit regardless, each version on its own, and rollback
 * reaches any kept version without recomputing anything. The price is one head-sized file per kept
 * version; {@code graft.head.history} bounds them and an evicted version's file is deleted.
 *
 * <p><b>Order of a change.</b> Under the model's change lock and the manifest's lock, after
 * catching up with the manifest on disk ({@link ModelState#change}): the head computes the new
 * history, the file of a new version is written (temp file, fsync, rename), the manifest is written
 * as the next version, the head publishes the history, and files no kept version names are deleted.
 * A process killed at any point restarts into the old or the new history, never a mix.
 *
 * <p><b>Problems.</b> A version whose file is missing, has another digest or is not a head of this
 * shape is not loaded and is reported; the head then serves the nearest loadable ancestor of the
 * manifest's current version (or the initial head from {@code graft.head.init}, as v1), never
 * refusing to start. The broken entries stay in the manifest until the next change of the head,
 * which records the history actually served (without them); until then a file that arrives late is
 * picked up by the next refresh.
 *
 * <p>Thread safe: every method runs under the model's change lock (it is called by {@link
 * ModelState}, or through it).
 */
final class HeadJournal implements StateSection, ModelHead.Journal {
  private static final Logger LOG = Logger.getLogger(HeadJournal.class.getName());

  /** The manifest key of the heads section. */
  static final String KEY = "heads";

  private static final long MAX_FILE_BYTES = 1L << 30;

  private final ModelHead head;
  private final ModelState state;
  private final Path folder;

  // guarded by the model's change lock
  private JsonObject section = new JsonObject(); // the whole heads section last read or written
  private JsonElement served; // this head's entry the live history was made from; null: none
  private boolean clean = true; // whether every version of {@code served} was loaded
  private Map<HeadVersion, Stored> files = new IdentityHashMap<>(); // of the live history

  /** The file a version is kept in, relative to the model folder. */
  record Stored(String file, String sha256, long bytes) {}

  private HeadJournal(ModelHead head, ModelState state) {
    this.head = head;
    this.state = state;
    this.folder = state.location().folder();
  }

  /**
   * Makes {@code head}'s changes durable in {@code state}: restored from its manifest and recorded
   * there before they go live. Call before {@link ModelState#replay}.
   */
  static void attach(ModelHead head, ModelState state) {
    HeadJournal journal = new HeadJournal(head, state);
    state.addSection(journal);
    head.useJournal(journal);
  }

  @Override
  public String key() {
    return KEY;
  }

  @Override
  public <T> T change(Function<Consumer<HeadHistory>, T> change) {
    return state.change(
        KEY,
        write -> {
          T result =
              change.apply(
                  next -> {
                    Map<HeadVersion, Stored> stored = save(next);
                    JsonObject entry = HeadRecords.encode(next, v -> stored.get(v));
                    JsonObject all = section.deepCopy();
                    all.add(head.name(), entry);
                    write.accept(all);
                    section = all;
                    served = entry;
                    clean = true;
                    files = stored;
                  });
          deleteUnreferenced();
          return result;
        });
  }

  @Override
  public void restore(JsonElement value, Consumer<String> problems) {
    if (!value.isJsonNull() && !value.isJsonObject()) {
      problems.accept(
          "the heads section is not an object; head "
              + head.name()
              + " still serves v"
              + head.current().version());
      return;
    }
    JsonObject all = value.isJsonObject() ? value.getAsJsonObject() : new JsonObject();
    JsonElement entry = all.get(head.name());
    if (entry != null && entry.equals(served) && clean) {
      section = all.deepCopy(); // another head's entry may have changed
      return;
    }
    HeadRecords.Entry decoded;
    try {
      decoded = entry == null ? null : HeadRecords.decode(head.name(), entry);
    } catch (GraftException e) {
      problems.accept(
          "head "
              + head.name()
              + ": "
              + e.getMessage()
              + "; still serving v"
              + head.current().version());
      return;
    }
    section = all.deepCopy();
    if (decoded == null) { // nothing recorded: the head as loaded
      install(HeadHistory.of(head.initial()));
      files = new IdentityHashMap<>();
      served = null;
      clean = true;
      return;
    }
    resolve(decoded, problems);
    served = entry.deepCopy();
  }

  /** Loads the versions of {@code entry} and makes the best history they allow live. */
  private void resolve(HeadRecords.Entry entry, Consumer<String> problems) {
    Map<String, HeadVersion> known = new HashMap<>(); // sha256 + "#" + version -> live version
    files.forEach((v, s) -> known.put(s.sha256() + "#" + v.version(), v));
    Map<Integer, HeadRecords.Version> byNumber = new HashMap<>();
    Map<HeadVersion, Stored> loaded = new IdentityHashMap<>();
    List<HeadVersion> kept = new ArrayList<>();
    List<String> broken = new ArrayList<>();
    for (HeadRecords.Version r : entry.versions()) {
      byNumber.put(r.version(), r);
      HeadVersion live = known.get(r.sha256() + "#" + r.version());
      try {
        HeadVersion v = live != null && r.describes(live) ? live : load(r);
        kept.add(v);
        loaded.put(v, new Stored(r.file(), r.sha256(), r.bytes()));
      } catch (GraftException e) {
        broken.add("v" + r.version());
        problems.accept(
            "head " + head.name() + ": v" + r.version() + " not loaded: " + e.getMessage());
      }
    }
    HeadVersion current = null;
    for (HeadRecords.Version r = byNumber.get(entry.current());
        r != null && current == null;
        r = byNumber.get(r.parent())) {
      int number = r.version();
      current = kept.stream().filter(v -> v.version() == number).findFirst().orElse(null);
    }
    if (current == null) { // no loadable ancestor: the head as loaded, as v1
      HeadVersion initial = head.initial();
      kept.removeIf(v -> v.version() == initial.version());
      loaded.keySet().removeIf(v -> v.version() == initial.version());
      kept.add(initial);
      kept.sort(Comparator.comparingInt(HeadVersion::version));
      current = initial;
    }
    if (current.version() != entry.current()) {
      problems.accept(
          "head "
              + head.name()
              + ": serving v"
              + current.version()
              + (current == head.initial() ? " (graft.head.init)" : "")
              + " instead of v"
              + entry.current()
              + ", which graft.json names current");
    }
    if (!broken.isEmpty()) {
      problems.accept(
          "head "
              + head.name()
              + ": the next change of the head drops "
              + String.join(", ", broken)
              + " from "
              + state.location().manifest().getFileName());
    }
    install(new HeadHistory(kept, current, Math.max(entry.last(), current.version())));
    files = loaded;
    clean = broken.isEmpty();
  }

  private void install(HeadHistory history) {
    if (!history.equals(head.state())) {
      head.restore(history);
      LOG.info(
          "Model "
              + head.model()
              + ": head "
              + head.name()
              + " restored at v"
              + history.current().version()
              + " ("
              + history.kept().size()
              + " versions kept)");
    }
  }

  /** A version read from its file and checked against its record. */
  private HeadVersion load(HeadRecords.Version r) {
    Path file = folder.resolve(r.file());
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      throw GraftException.invalid("%s: no such file", r.file());
    } catch (IOException e) {
      throw GraftException.invalid("%s cannot be read: %s", r.file(), e.getMessage());
    }
    if (size != r.bytes() || size > MAX_FILE_BYTES) {
      throw GraftException.invalid(
          "%s has %d bytes, %s recorded %d: the file changed",
          r.file(), size, state.location().manifest().getFileName(), r.bytes());
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw GraftException.invalid("%s cannot be read: %s", r.file(), e.getMessage());
    }
    String sha = ModelState.sha256(bytes);
    if (!sha.equals(r.sha256())) {
      throw GraftException.invalid(
          "%s has sha256 %s..., %s recorded %s...: the file changed",
          r.file(),
          sha.substring(0, 12),
          state.location().manifest().getFileName(),
          r.sha256().substring(0, 12));
    }
    SafeTensors st = SafeTensors.parse(bytes, r.file());
    ClassifierHead weights = ClassifierHead.fromSafeTensors(st, r.file());
    if (weights.featureDim() != head.featureDim()) {
      throw GraftException.invalid(
          "%s takes %d features, head %s takes %d",
          r.file(), weights.featureDim(), head.name(), head.featureDim());
    }
    return r.toVersion(weights, HeadRecords.fileStep(st.metadata(), r.file()));
  }

  /**
   * Writes the file of every version of {@code next} that has none yet (before the manifest names
   * it); the files of all its versions.
   */
  private Map<HeadVersion, Stored> save(HeadHistory next) {
    Map<HeadVersion, Stored> stored = new IdentityHashMap<>();
    for (HeadVersion v : next.kept()) {
      Stored s = files.get(v);
      if (s == null) {
        s = write(v);
      }
      stored.put(v, s);
    }
    return stored;
  }

  private Stored write(HeadVersion v) {
    byte[] bytes = v.classifier().toSafeTensors(HeadRecords.fileMetadata(v));
    String sha = ModelState.sha256(bytes);
    String relative = StateLocation.headFile(head.name(), sha);
    Path file = folder.resolve(relative);
    if (!sameFile(file, bytes.length, sha)) {
      AtomicFiles.write(file, bytes);
    }
    return new Stored(relative, sha, bytes.length);
  }

  /** Whether {@code file} exists with this size and digest (content-addressed: then keep it). */
  private static boolean sameFile(Path file, long size, String sha) {
    try {
      return Files.size(file) == size && ModelState.sha256(Files.readAllBytes(file)).equals(sha);
    } catch (IOException e) {
      return false;
    }
  }

  /** Deletes the version files of this head that the manifest no longer names. */
  private void deleteUnreferenced() {
    Path dir = folder.resolve(StateLocation.HEADS).resolve(head.name());
    Set<Path> named = new HashSet<>();
    files.values().forEach(s -> named.add(folder.resolve(s.file()).normalize()));
    List<Path> present;
    try (Stream<Path> list = Files.list(dir)) {
      present = list.toList();
    } catch (IOException e) {
      return; // no folder: nothing to delete
    }
    boolean deleted = false;
    for (Path p : present) {
      String name = p.getFileName().toString();
      if (name.endsWith(".safetensors") && !named.contains(p.normalize())) {
        AtomicFiles.deleteQuietly(p);
        deleted = true;
      }
    }
    if (deleted) {
      AtomicFiles.syncDirectory(dir);
    }
  }

  /** The file a live version is kept in, if it has been written (tests). */
  Optional<Stored> stored(HeadVersion v) {
    return Optional.ofNullable(files.get(v));
  }
}
