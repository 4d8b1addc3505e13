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
 * ModelState#change(String, java.util.function.Function)}, which catches up with the manifest on
 * disk (restoring the section), lets the change compute the section's new value and write it to the
 * manifest, then run, all under the model's change lock. {@link HeadJournal} (classifier heads) is
 * the example.
 *
 * <p>A section that reported problems is restored again at every refresh while its value is
 * unchanged (a file it names may arrive late), and after each of its own changes (which may settle
 * them): restoring a value that is already live should be cheap and change nothing.
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
