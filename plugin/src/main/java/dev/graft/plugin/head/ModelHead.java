package dev.graft.plugin.head;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The versioned classifier head of one served model.
 *
 * <p>The current {@link HeadVersion} is an immutable snapshot behind an atomic reference: inference
 * reads it once per request without locking, and a change publishes a complete new version with one
 * atomic write, so a request computes all its rows with exactly one version and never waits. The
 * backbone is not involved: no change here touches the model's ONNX Runtime session.
 *
 * <p>Changes ({@link #addClasses}, {@link #rollback}) are serialised by a lock that inference never
 * takes. A change validates everything before it publishes; a refused change leaves the head as it
 * was. Up to {@code history} versions are kept for {@link #rollback} and {@link #history}: the
 * versions the current one descends from are evicted last, so rollback can always go back {@code
 * history - 1} steps. Thread safe.
 */
public final class ModelHead {
  private final String model;
  private final HeadSettings settings;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicReference<HeadVersion> current;
  // written under lock; an unmodifiable list in creation order, always holding the current version
  private volatile List<HeadVersion> retained;
  private int lastVersion; // guarded by lock

  ModelHead(String model, HeadSettings settings, ClassifierHead initial, Clock clock) {
    this.model = model;
    this.settings = settings;
    this.clock = clock;
    HeadVersion first =
        new HeadVersion(settings.name(), 1, 0, initial, Optional.empty(), clock.instant());
    this.current = new AtomicReference<>(first);
    this.retained = List.of(first);
    this.lastVersion = 1;
  }

  /** A head starting at version 1 with {@code initial}. */
  public static ModelHead of(String model, HeadSettings settings, ClassifierHead initial) {
    return new ModelHead(model, settings, initial, Clock.systemUTC());
  }

  /** The model this head belongs to. */
  public String model() {
    return model;
  }

  /** The head's name. */
  public String name() {
    return settings.name();
  }

  /** The declaration it was loaded from (feature output, logits output name, history size). */
  public HeadSettings settings() {
    return settings;
  }

  /** The number of features every version takes (it never changes). */
  public int featureDim() {
    return current.get().classifier().featureDim();
  }

  /** The version new requests use. Lock-free. */
  public HeadVersion current() {
    return current.get();
  }

  /** The kept versions, oldest first. Lock-free. */
  public List<HeadVersion> history() {
    return retained;
  }

  /**
   * The kept versions from which {@code version} descends, oldest first, ending with {@code
   * version}: the steps that made it (as far back as the history reaches).
   */
  public List<HeadVersion> lineage(HeadVersion version) {
    List<HeadVersion> kept = retained;
    List<HeadVersion> chain = new ArrayList<>();
    for (HeadVersion v = version; v != null; v = find(kept, v.parent()).orElse(null)) {
      chain.add(v);
    }
    Collections.reverse(chain);
    return List.copyOf(chain);
  }

  /**
   * Applies a class-incremental step to the current version and makes the result current.
   *
   * @param incoming the step's full head (the current labels first, in order, then new ones) or
   *     only the new rows
   * @return the new current version
   * @throws GraftException {@code INVALID_ARGUMENT} for another feature dimension, no new class, a
   *     full head whose first labels are not the current ones in order, or new rows that are all
   *     zero under {@link AlignMode#WA}; {@code ALREADY_EXISTS} for new rows whose label the head
   *     already has. Nothing changes then.
   */
  public HeadVersion addClasses(ClassifierHead incoming, AlignMode mode) {
    lock.lock();
    try {
      HeadVersion now = current.get();
      IncrementalStep.Result result = IncrementalStep.apply(now.classifier(), incoming, mode);
      HeadVersion next =
          new HeadVersion(
              name(),
              lastVersion + 1,
              now.version(),
              result.head(),
              Optional.of(HeadStep.of(result, mode)),
              clock.instant());
      publish(next);
      lastVersion = next.version();
      return next;
    } finally {
      lock.unlock();
    }
  }

  /**
   * A rollback's outcome.
   *
   * @param from the version that was current
   * @param to the version that is current now ({@code from}'s parent)
   */
  public record Rollback(HeadVersion from, HeadVersion to) {}

  /**
   * Makes the current version's parent current again (the same version number and weights it had).
   *
   * @throws GraftException {@code FAILED_PRECONDITION} at the initial version, or when the parent
   *     is no longer kept. Nothing changes then.
   */
  public Rollback rollback() {
    lock.lock();
    try {
      HeadVersion now = current.get();
      if (now.parent() == 0) {
        throw GraftException.precondition(
            "head %s of model %s is at its initial version v%d: there is nothing to roll back to",
            name(), model, now.version());
      }
      HeadVersion parent =
          find(retained, now.parent())
              .orElseThrow(
                  () ->
                      GraftException.precondition(
                          "head %s of model %s: v%d, the parent of v%d, is no longer kept"
                              + " (graft.head.history keeps %d versions)",
                          name(), model, now.parent(), now.version(), settings.history()));
      current.set(parent);
      return new Rollback(now, parent);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Adds {@code next} to the kept versions and makes it current. Beyond {@code history} versions,
   * the oldest are evicted, first those {@code next} does not descend from (branches left by
   * rollbacks), then its oldest ancestors, so that rollback always reaches back as many steps as
   * the history keeps.
   */
  private void publish(HeadVersion next) {
    List<HeadVersion> kept = new ArrayList<>(retained);
    kept.add(next);
    Set<Integer> lineage = new HashSet<>();
    for (HeadVersion v = next; v != null; v = find(kept, v.parent()).orElse(null)) {
      lineage.add(v.version());
    }
    while (kept.size() > settings.history()) {
      int victim = 0;
      while (victim < kept.size() - 1 && lineage.contains(kept.get(victim).version())) {
        victim++;
      }
      kept.remove(victim == kept.size() - 1 ? 0 : victim); // never next: history is at least 2
    }
    retained = List.copyOf(kept);
    current.set(next);
  }

  private static Optional<HeadVersion> find(List<HeadVersion> versions, int version) {
    return versions.stream().filter(v -> v.version() == version).findFirst();
  }
}
