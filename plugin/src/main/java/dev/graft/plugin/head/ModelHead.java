package dev.graft.plugin.head;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The versioned classifier head of one served model.
 *
 * <p>The head's state is an immutable {@link HeadHistory} (kept versions, current version, last
 * issued number) behind an atomic reference: inference reads the current version once per request
 * without locking, and a change publishes a complete new history with one atomic write, so a
 * request computes all its rows with exactly one version and never waits. The backbone is not
 * involved: no change here touches the model's ONNX Runtime session.
 *
 * <p>Changes ({@link #addClasses}, {@link #rollback}) are serialised by a lock that inference never
 * takes, and run inside the {@link Journal}'s {@link Journal#change change}: the journal (the
 * model's durable state, when there is one) records the new history before it goes live. A change
 * validates everything before it records anything; a refused change leaves the head as it was. Up
 * to {@code history} versions are kept for {@link #rollback} and {@link #history}: the versions the
 * current one descends from are evicted last, so rollback can always go back {@code history - 1}
 * steps. Thread safe.
 */
public final class ModelHead {
  /**
   * Where a head's changes are recorded before they go live (the durable state attaches one, see
   * {@code dev.graft.plugin.state.HeadJournal}). Without one, changes are only in memory.
   */
  public interface Journal {
    /**
     * Runs {@code change} (serialised with every other change of the model, after catching up with
     * changes made elsewhere, which may {@link #restore} this head) and returns its result. {@code
     * change} calls the recorder it is given with the new history before publishing it; the
     * recorder makes the history durable or throws (then the change fails and nothing is live).
     */
    <T> T change(Function<Consumer<HeadHistory>, T> change);
  }

  /** Changes in memory only. */
  private static final Journal MEMORY =
      new Journal() {
        @Override
        public <T> T change(Function<Consumer<HeadHistory>, T> change) {
          return change.apply(next -> {});
        }
      };

  private final String model;
  private final HeadSettings settings;
  private final Clock clock;
  private final HeadVersion initial;
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicReference<HeadHistory> state; // written under lock
  private volatile Journal journal = MEMORY;

  ModelHead(String model, HeadSettings settings, ClassifierHead initialHead, Clock clock) {
    this.model = model;
    this.settings = settings;
    this.clock = clock;
    this.initial =
        new HeadVersion(settings.name(), 1, 0, initialHead, Optional.empty(), clock.instant());
    this.state = new AtomicReference<>(HeadHistory.of(initial));
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
    return initial.classifier().featureDim();
  }

  /** Version 1 as loaded from {@code graft.head.init}. */
  public HeadVersion initial() {
    return initial;
  }

  /** The version new requests use. Lock-free. */
  public HeadVersion current() {
    return state.get().current();
  }

  /** The kept versions, oldest first. Lock-free. */
  public List<HeadVersion> history() {
    return state.get().kept();
  }

  /** The whole state: kept versions, current version, last issued number. Lock-free. */
  public HeadHistory state() {
    return state.get();
  }

  /**
   * The kept versions from which {@code version} descends, oldest first, ending with {@code
   * version}: the steps that made it (as far back as the history reaches).
   */
  public List<HeadVersion> lineage(HeadVersion version) {
    HeadHistory h = state.get();
    List<HeadVersion> chain = new ArrayList<>();
    for (HeadVersion v = version; v != null; v = h.find(v.parent()).orElse(null)) {
      chain.add(v);
    }
    Collections.reverse(chain);
    return List.copyOf(chain);
  }

  /** Records every later change in {@code journal} before it goes live. */
  public void useJournal(Journal journal) {
    this.journal = journal;
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
   *     already has; whatever the journal throws when it cannot record the change. Nothing changes
   *     then.
   */
  public HeadVersion addClasses(ClassifierHead incoming, AlignMode mode) {
    return journal.change(
        record -> {
          lock.lock();
          try {
            HeadHistory now = state.get();
            HeadVersion from = now.current();
            IncrementalStep.Result result =
                IncrementalStep.apply(from.classifier(), incoming, mode);
            HeadVersion next =
                new HeadVersion(
                    name(),
                    now.lastVersion() + 1,
                    from.version(),
                    result.head(),
                    Optional.of(HeadStep.of(result, mode)),
                    clock.instant());
            HeadHistory after = now.with(next, settings.history());
            record.accept(after);
            state.set(after);
            return next;
          } finally {
            lock.unlock();
          }
        });
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
   *     is no longer kept; whatever the journal throws. Nothing changes then.
   */
  public Rollback rollback() {
    return journal.change(
        record -> {
          lock.lock();
          try {
            HeadHistory now = state.get();
            HeadHistory after = now.rolledBack(model, settings.history());
            record.accept(after);
            state.set(after);
            return new Rollback(now.current(), after.current());
          } finally {
            lock.unlock();
          }
        });
  }

  /**
   * Makes {@code history} the head's state, as recorded elsewhere (start-up replay, another
   * replica's change). Not recorded in the journal: it comes from there.
   *
   * @throws IllegalArgumentException when a version of {@code history} belongs to another head or
   *     takes another number of features
   */
  public void restore(HeadHistory history) {
    for (HeadVersion v : history.kept()) {
      if (!v.head().equals(name()) || v.classifier().featureDim() != featureDim()) {
        throw new IllegalArgumentException(
            "v"
                + v.version()
                + " is not a version of head "
                + name()
                + " [N, "
                + featureDim()
                + "]");
      }
    }
    lock.lock();
    try {
      state.set(history);
    } finally {
      lock.unlock();
    }
  }
}
