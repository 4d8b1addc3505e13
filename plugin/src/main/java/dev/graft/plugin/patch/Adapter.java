package dev.graft.plugin.patch;

import dev.graft.onnx.rws.RwsSignature;

/**
 * An RWS signature registered on a model, with its scale and whether it is attached. Immutable;
 * changes produce new values.
 *
 * @param name the adapter's name on its model (letters, digits, {@code _ . -})
 * @param model the model it belongs to
 * @param source where the signature came from, as the client named it
 * @param alpha its scale, finite
 * @param attached whether it is part of the model's live weights
 * @param transfer whether it was registered onto other base weights of the same architecture
 * @param signature the decoded signature
 */
public record Adapter(
    String name,
    String model,
    SignatureSource source,
    double alpha,
    boolean attached,
    boolean transfer,
    RwsSignature signature) {

  public Adapter withAlpha(double newAlpha) {
    return new Adapter(name, model, source, newAlpha, attached, transfer, signature);
  }

  public Adapter withAttached(boolean newAttached) {
    return new Adapter(name, model, source, alpha, newAttached, transfer, signature);
  }

  /** {@code name@alpha} as in the {@code X-Graft-Weights} header. */
  public String term() {
    return name + "@" + Double.toString(alpha);
  }
}
