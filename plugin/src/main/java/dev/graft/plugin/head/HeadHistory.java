package dev.graft.plugin.head;

import dev.graft.onnx.GraftException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The complete state of one head at one moment: the kept versions, the current one and the highest
 * version number ever issued. Immutable: a change builds a new history and the head publishes it
 * with one atomic write; the durable state records exactly this value (see {@code
 * dev.graft.plugin.state.HeadJournal}).
 *
 * @param kept the versions kept for rollback and history, in creation order; holds {@code current}
 * @param current the version new requests use
 * @param lastVersion the highest version number issued so far; the next version gets {@code
 *     lastVersion + 1}, so a number never names two sets of weights
 */
public record HeadHistory(List<HeadVersion> kept, HeadVersion current, int lastVersion) {

  public HeadHistory {
    kept = List.copyOf(kept);
    if (!kept.contains(current)) {
      throw new IllegalArgumentException("v" + current.version() + " is not among the kept");
    }
    for (HeadVersion v : kept) {
      if (v.version() > lastVersion) {
        throw new IllegalArgumentException(
            "v" + v.version() + " is above the last issued version " + lastVersion);
      }
    }
  }

  /** A head's first history: {@code initial} alone. */
  public static HeadHistory of(HeadVersion initial) {
    return new HeadHistory(List.of(initial), initial, initial.version());
  }

  /** The kept version numbered {@code version}. */
  public Optional<HeadVersion> find(int version) {
    return kept.stream().filter(v -> v.version() == version).findFirst();
  }

  /**
   * This history with {@code next} added and current. Beyond {@code limit} versions, the oldest are
   * evicted, first those {@code next} does not descend from (branches left by rollbacks), then its
   * oldest ancestors, so that rollback always reaches back {@code limit - 1} steps.
   *
   * @param limit at least 2
   */
  public HeadHistory with(HeadVersion next, int limit) {
    List<HeadVersion> all = new ArrayList<>(kept);
    all.add(next);
    Set<Integer> lineage = new HashSet<>();
    for (HeadVersion v = next; v != null; v = find(all, v.parent()).orElse(null)) {
      lineage.add(v.version());
    }
    while (all.size() > limit) {
      int victim = 0;
      while (victim < all.size() - 1 && lineage.contains(all.get(victim).version())) {
        victim++;
      }
      all.remove(victim == all.size() - 1 ? 0 : victim); // never next: limit is at least 2
    }
    return new HeadHistory(all, next, Math.max(lastVersion, next.version()));
  }

  /**
   * This history with the current version's parent current again.
   *
   * @throws GraftException {@code FAILED_PRECONDITION} at an initial version, or when the parent is
   *     no longer kept
   */
  public HeadHistory rolledBack(String model, int limit) {
    if (current.parent() == 0) {
      throw GraftException.precondition(
          "head %s of model %s is at its initial version v%d: there is nothing to roll back to",
          current.head(), model, current.version());
    }
    HeadVersion parent =
        find(current.parent())
            .orElseThrow(
                () ->
                    GraftException.precondition(
                        "head %s of model %s: v%d, the parent of v%d, is no longer kept"
                            + " (graft.head.history keeps %d versions)",
                        current.head(), model, current.parent(), current.version(), limit));
    return new HeadHistory(kept, parent, lastVersion);
  }

  private static Optional<HeadVersion> find(List<HeadVersion> versions, int version) {
    return versions.stream().filter(v -> v.version() == version).findFirst();
  }
}
