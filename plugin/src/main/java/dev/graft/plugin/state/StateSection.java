package dev.graft.plugin.state;

import com.google.gson.JsonElement;
import java.util.function.Consumer;

/**
 * A part of a model's durable state kept under its own top-level key of {@code graft.json}, next to
 * the adapters: the extension point for other live changes, such as classifier head versions.
 *
 * <p>A feature makes its state durable in two steps. It registers a section with {@link
 * ModelState#addSection} when the model loads (see {@link DurableStates#loaded}), so start-up
 * replay and replicas call {@link #restore}. And it makes every change through {@link
 * ModelState#change}, which writes the section's new value to the manifest before running the
 * change, under the model's change lock.
 */
public interface StateSection {
  /** The top-level key, e.g. {@code "heads"}; not one of the manifest's own keys. */
  String key();

  /**
   * Makes {@code state} live: the value found in the manifest at start-up or written by another
   * replica; {@link com.google.gson.JsonNull} when the manifest has no such key. Called with the
   * model's change lock held. Parts that cannot be applied are reported to {@code problems} (shown
   * by {@code GET /models/{m}}) and skipped, not thrown: a broken part must not stop the model.
   */
  void restore(JsonElement state, Consumer<String> problems);
}
