package dev.graft.onnx.head;

import dev.graft.onnx.GraftException;
import java.util.Locale;

/** Whether a class-incremental step applies Weight Aligning to the new rows. */
public enum AlignMode {
  /** Scale the new rows by γ = mean‖old rows‖ / mean‖new rows‖ (Weight Aligning). */
  WA,
  /** Keep the rows as given. */
  NONE;

  /**
   * Parses {@code wa} or {@code none} (any case); {@code null} or blank means {@link #WA}.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for anything else
   */
  public static AlignMode parse(String value) {
    if (value == null || value.isBlank()) {
      return WA;
    }
    return switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "wa" -> WA;
      case "none" -> NONE;
      default -> throw GraftException.invalid("align must be 'wa' or 'none', got '%s'", value);
    };
  }

  /** The lower-case name used on the wire ({@code wa}, {@code none}). */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
