package dev.graft.plugin.runtime;

/**
 * A tensor's change in the form a compact state stores it: {@code patched[i] = base[i] +
 * table[index[i] & 0xff]} (one float32 addition). {@code DeltaCodec} searches for this form for any
 * patched tensor. One RWS signature applied with scale {@code alpha} has this form without a
 * search: its delta takes at most 256 distinct values (its quantisation levels), and {@code
 * RwsPatch} adds {@code (float) (0.0 + alpha * d)} to each base weight, so the table is that value
 * for each distinct {@code d} ({@link DeltaLevels}). Handing these to a compact runtime spares it
 * {@code DeltaCodec}'s search (about 30 ns per weight).
 *
 * @param table at most 256 deltas (none for an empty tensor)
 * @param index per element, the (unsigned) position of its delta in {@code table}
 */
public record ByteDeltas(float[] table, byte[] index) {
  public ByteDeltas {
    if (table.length > DeltaCodec.MAX_LEVELS) {
      throw new IllegalArgumentException("a table holds at most 256 deltas, got " + table.length);
    }
  }

  /** The patched values: {@code base[i] + table[index[i]]}. */
  public float[] apply(float[] base) {
    if (base.length != index.length) {
      throw new IllegalArgumentException(
          "base has " + base.length + " elements, the deltas " + index.length);
    }
    float[] out = new float[base.length];
    for (int i = 0; i < base.length; i++) {
      out[i] = base[i] + table[index[i] & 0xff];
    }
    return out;
  }
}
