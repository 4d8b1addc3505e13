/**
 * Durable, replicated model state: each model's {@code graft.json} manifest (adapters, and the
 * versions of its classifier head in section {@code heads}), written before every change goes live
 * and replayed at start-up, and the watcher that lets replicas sharing one model store converge on
 * it. See docs/deployment.md.
 *
 * <p>Extension point: a feature with live, durable state implements {@link
 * dev.graft.plugin.state.StateSection}, registers it in {@link
 * dev.graft.plugin.state.DurableStates#loaded} and makes its changes through {@link
 * dev.graft.plugin.state.ModelState#change}.
 */
package dev.graft.plugin.state;
