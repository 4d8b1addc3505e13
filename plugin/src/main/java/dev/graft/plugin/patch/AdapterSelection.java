package dev.graft.plugin.patch;

import dev.graft.onnx.GraftException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.regex.Pattern;

/**
 * The adapters one request asks for instead of the attached set: {@code fog:0.5,noise}. Entries are
 * separated by {@code ,} or {@code +} and an alpha follows {@code :} or {@code @}, so an {@code
 * X-Graft-Weights} value ({@code fog@0.5+noise@1.0}) can be sent back as it is. An entry without
 * alpha uses the adapter's registered alpha; an empty selection means the base weights.
 *
 * @param entries the requested adapters, in the order given
 */
public record AdapterSelection(List<Entry> entries) {
  private static final Pattern SEPARATOR = Pattern.compile("[,+]");

  /** One requested adapter. */
  public record Entry(String name, OptionalDouble alpha) {}

  public AdapterSelection {
    entries = List.copyOf(entries);
  }

  /**
   * Parses a selection.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for an empty name, an alpha that is not a
   *     finite number, or a name given twice
   */
  public static AdapterSelection parse(String text) {
    List<Entry> entries = new ArrayList<>();
    if (text.isBlank()) {
      return new AdapterSelection(entries);
    }
    for (String part : SEPARATOR.split(text, -1)) {
      String item = part.trim();
      int at = Math.max(item.indexOf(':'), item.indexOf('@'));
      String name = (at < 0 ? item : item.substring(0, at)).trim();
      if (name.isEmpty()) {
        throw GraftException.invalid("adapters '%s': an entry has no adapter name", text);
      }
      OptionalDouble alpha = OptionalDouble.empty();
      if (at >= 0) {
        String value = item.substring(at + 1).trim();
        try {
          alpha = OptionalDouble.of(Double.parseDouble(value));
        } catch (NumberFormatException e) {
          throw GraftException.invalid("adapters '%s': alpha '%s' is not a number", text, value);
        }
        if (!Double.isFinite(alpha.getAsDouble())) {
          throw GraftException.invalid("adapters '%s': alpha must be finite", text);
        }
      }
      for (Entry e : entries) {
        if (e.name().equals(name)) {
          throw GraftException.invalid("adapters '%s': %s is given twice", text, name);
        }
      }
      entries.add(new Entry(name, alpha));
    }
    return new AdapterSelection(entries);
  }
}
