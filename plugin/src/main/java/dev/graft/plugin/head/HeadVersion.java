package dev.graft.plugin.head;

import dev.graft.onnx.head.ClassifierHead;
import java.time.Instant;
import java.util.Optional;

/**
 * One immutable version of a model's head. Inference reads the current version once per request and
 * computes every row of that request with it.
 *
 * @param head the head's name
 * @param version the version number: 1 for the initial head, then increasing by one with each
 *     change; never reused (the last issued number is part of the durable state, so not across
 *     restarts and replicas either), so {@link #tag()} names one exact set of weights
 * @param parent the version this one was made from, 0 for the initial head
 * @param classifier the weights, biases and labels
 * @param step how it was made from {@code parent}; empty for the initial head
 * @param created when it was made
 */
public record HeadVersion(
    String head,
    int version,
    int parent,
    ClassifierHead classifier,
    Optional<HeadStep> step,
    Instant created) {

  /** This version's part of {@code X-Graft-Weights}: {@code head:<name>@v<version>}. */
  public String tag() {
    return "head:" + head + "@v" + version;
  }
}
