package dev.graft.torchscript.internal;

import dev.graft.onnx.GraftException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A pickle reader for the subset of the format PyTorch writes ({@code data.pkl} of {@code
 * torch.jit.save} and {@code torch.save} archives, protocols 2 to 4). It never runs code: a global
 * is a {@link Global} value, and calling one ({@code REDUCE}) or instantiating one ({@code NEWOBJ})
 * asks the caller's {@code reducer}, which usually answers with a plain {@link Call} record.
 *
 * <p>Values: {@code null}, {@link Boolean}, {@link Long} (or {@link BigInteger} beyond 64 bits),
 * {@link Double}, {@link String}, {@code byte[]}, {@link List} (tuples unmodifiable, lists
 * modifiable), {@link Map} (insertion ordered), {@link Global}, {@link Call}, and whatever the
 * reducer and the persistent-id loader return. Not thread safe; one instance reads one stream.
 */
public final class Unpickler {
  /** A {@code module.name} reference. */
  public record Global(String module, String name) {
    /** {@code module.name}. */
    public String qualified() {
      return module + "." + name;
    }
  }

  /**
   * A global called with arguments ({@code REDUCE}) or instantiated ({@code NEWOBJ}), with the
   * state {@code BUILD} gave it and the items {@code SETITEM(S)} added to it.
   */
  public static final class Call {
    private final Global callee;
    private final List<Object> args;
    private Object state;
    private final Map<Object, Object> items = new LinkedHashMap<>();

    public Call(Global callee, List<Object> args) {
      this.callee = callee;
      this.args = args;
    }

    public Global callee() {
      return callee;
    }

    public List<Object> args() {
      return args;
    }

    /** What {@code BUILD} set, usually the object's attribute dict; {@code null} if none. */
    public Object state() {
      return state;
    }

    /** Items added by {@code SETITEM(S)} (for dict subclasses), in order. */
    public Map<Object, Object> items() {
      return Collections.unmodifiableMap(items);
    }

    @Override
    public String toString() {
      return callee.qualified() + args;
    }
  }

  private static final Object MARK = new Object();
  private static final int MAX_DEPTH_OF_STACK = 1 << 20;

  private final ByteBuffer in;
  private final String source;
  private final Function<Object, Object> persistentLoad;
  private final BiFunction<Global, List<Object>, Object> reducer;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();

  private Unpickler(
      byte[] data,
      String source,
      Function<Object, Object> persistentLoad,
      BiFunction<Global, List<Object>, Object> reducer) {
    this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    this.source = source;
    this.persistentLoad = persistentLoad;
    this.reducer = reducer;
  }

  /**
   * Reads one pickled value.
   *
   * @param source names the data in error messages
   * @param persistentLoad resolves a persistent id ({@code BINPERSID}), e.g. a tensor storage
   * @param reducer the value of {@code callee(args)}; return {@code new Call(callee, args)} for
   *     globals without a meaning of their own
   * @throws GraftException {@code INVALID_ARGUMENT} for truncated or malformed data, or an opcode
   *     outside the supported subset
   */
  public static Object load(
      byte[] data,
      String source,
      Function<Object, Object> persistentLoad,
      BiFunction<Global, List<Object>, Object> reducer) {
    try {
      return new Unpickler(data, source, persistentLoad, reducer).run();
    } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, source + ": truncated or malformed pickle", e);
    } catch (ClassCastException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          source + ": malformed pickle (" + e.getMessage() + ")",
          e);
    }
  }

  private Object run() {
    while (true) {
      int at = in.position();
      int op = in.get() & 0xff;
      switch (op) {
        case 0x80 -> in.get(); // PROTO
        case 0x95 -> in.getLong(); // FRAME: a length hint only
        case '.' -> { // STOP
          return pop();
        }
        case 'c' -> push(new Global(line(), line())); // GLOBAL
        case 0x93 -> { // STACK_GLOBAL
          String name = (String) pop();
          push(new Global((String) pop(), name));
        }
        case 'q' -> memo.put((long) (in.get() & 0xff), top()); // BINPUT
        case 'r' -> memo.put(in.getInt() & 0xffffffffL, top()); // LONG_BINPUT
        case 0x94 -> memo.put((long) memo.size(), top()); // MEMOIZE
        case 'h' -> push(memoGet(in.get() & 0xff)); // BINGET
        case 'j' -> push(memoGet(in.getInt() & 0xffffffffL)); // LONG_BINGET
        case '(' -> marks.add(stack.size()); // MARK
        case ')' -> push(List.of()); // EMPTY_TUPLE
        case 't' -> push(Collections.unmodifiableList(popToMark())); // TUPLE
        case 0x85 -> push(Collections.singletonList(pop())); // TUPLE1
        case 0x86 -> push(tuple(2)); // TUPLE2
        case 0x87 -> push(tuple(3)); // TUPLE3
        case ']' -> push(new ArrayList<>()); // EMPTY_LIST
        case 'l' -> push(popToMark()); // LIST
        case 'a' -> { // APPEND
          Object v = pop();
          list(top()).add(v);
        }
        case 'e' -> { // APPENDS
          List<Object> items = popToMark();
          list(top()).addAll(items);
        }
        case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
        case 'd' -> { // DICT
          List<Object> kv = popToMark();
          Map<Object, Object> d = new LinkedHashMap<>();
          putAll(d, kv);
          push(d);
        }
        case 's' -> { // SETITEM
          Object v = pop();
          Object k = pop();
          putAll(top(), Arrays.asList(k, v));
        }
        case 'u' -> { // SETITEMS
          List<Object> kv = popToMark();
          putAll(top(), kv);
        }
        case 0x81 -> { // NEWOBJ
          Object args = pop();
          push(reduce(pop(), args));
        }
        case 'R' -> { // REDUCE
          Object args = pop();
          push(reduce(pop(), args));
        }
        case 'b' -> { // BUILD
          Object state = pop();
          if (top() instanceof Call call) {
            call.state = state;
          } else {
            throw malformed(at, "BUILD on " + describe(top()));
          }
        }
        case 'Q' -> push(persistentLoad.apply(pop())); // BINPERSID
        case 'J' -> push((long) in.getInt()); // BININT
        case 'K' -> push((long) (in.get() & 0xff)); // BININT1
        case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
        case 0x8a -> push(long1(in.get() & 0xff)); // LONG1
        case 'G' -> push(in.order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT
        case 'N' -> push(null); // NONE
        case 0x88 -> push(Boolean.TRUE); // NEWTRUE
        case 0x89 -> push(Boolean.FALSE); // NEWFALSE
        case 'X' -> push(utf8(length(in.getInt() & 0xffffffffL))); // BINUNICODE
        case 0x8c -> push(utf8(in.get() & 0xff)); // SHORT_BINUNICODE
        case 0x8d -> push(utf8(length(in.getLong()))); // BINUNICODE8
        case 'T' -> push(latin1(length(in.getInt() & 0xffffffffL))); // BINSTRING
        case 'U' -> push(latin1(in.get() & 0xff)); // SHORT_BINSTRING
        case 'B' -> push(bytes(length(in.getInt() & 0xffffffffL))); // BINBYTES
        case 'C' -> push(bytes(in.get() & 0xff)); // SHORT_BINBYTES
        case '0' -> pop(); // POP
        case '2' -> push(top()); // DUP
        case '1' -> popToMark(); // POP_MARK
        default -> throw malformed(at, String.format("unsupported opcode 0x%02x", op));
      }
      in.order(ByteOrder.LITTLE_ENDIAN);
      if (stack.size() > MAX_DEPTH_OF_STACK) {
        throw malformed(at, "stack grows beyond " + MAX_DEPTH_OF_STACK + " values");
      }
    }
  }

  private Object reduce(Object callee, Object args) {
    if (!(callee instanceof Global g)) {
      throw GraftException.invalid("%s: calls %s, which is not a global", source, describe(callee));
    }
    if (!(args instanceof List<?> list)) {
      throw GraftException.invalid("%s: %s called with %s", source, g.qualified(), describe(args));
    }
    return reducer.apply(g, Collections.unmodifiableList(new ArrayList<>(list)));
  }

  @SuppressWarnings("unchecked")
  private void putAll(Object target, List<Object> keysAndValues) {
    Map<Object, Object> map;
    if (target instanceof Map<?, ?> m) {
      map = (Map<Object, Object>) m;
    } else if (target instanceof Call call) {
      map = call.items;
    } else {
      throw GraftException.invalid("%s: SETITEM on %s", source, describe(target));
    }
    if (keysAndValues.size() % 2 != 0) {
      throw GraftException.invalid("%s: SETITEMS with an odd number of values", source);
    }
    for (int i = 0; i < keysAndValues.size(); i += 2) {
      map.put(keysAndValues.get(i), keysAndValues.get(i + 1));
    }
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Object target) {
    if (target instanceof ArrayList<?> l) {
      return (List<Object>) l;
    }
    throw GraftException.invalid("%s: APPEND to %s", source, describe(target));
  }

  private List<Object> tuple(int n) {
    Object[] items = new Object[n];
    for (int i = n - 1; i >= 0; i--) {
      items[i] = pop();
    }
    return Collections.unmodifiableList(Arrays.asList(items));
  }

  private Object memoGet(long key) {
    if (!memo.containsKey(key)) {
      throw GraftException.invalid("%s: memo entry %d is read before it is written", source, key);
    }
    return memo.get(key);
  }

  private void push(Object o) {
    stack.add(o);
  }

  private Object pop() {
    if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) {
      throw GraftException.invalid("%s: malformed pickle (pop from an empty frame)", source);
    }
    return stack.remove(stack.size() - 1);
  }

  private Object top() {
    if (stack.isEmpty()) {
      throw GraftException.invalid("%s: malformed pickle (empty stack)", source);
    }
    return stack.get(stack.size() - 1);
  }

  private List<Object> popToMark() {
    if (marks.isEmpty()) {
      throw GraftException.invalid("%s: malformed pickle (no MARK)", source);
    }
    int from = marks.remove(marks.size() - 1);
    List<Object> tail = stack.subList(from, stack.size());
    List<Object> items = new ArrayList<>(tail);
    tail.clear();
    return items;
  }

  private String line() {
    int start = in.position();
    while (in.get() != '\n') {
      // scan to the end of the line
    }
    byte[] b = new byte[in.position() - start - 1];
    in.get(start, b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private Object long1(int n) {
    byte[] le = bytes(n);
    if (n == 0) {
      return 0L;
    }
    byte[] be = new byte[n];
    for (int i = 0; i < n; i++) {
      be[i] = le[n - 1 - i];
    }
    BigInteger v = new BigInteger(be);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private int length(long n) {
    if (n < 0 || n > in.remaining()) {
      throw GraftException.invalid(
          "%s: truncated pickle (a %d-byte value with %d bytes left)", source, n, in.remaining());
    }
    return (int) n;
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[length(n)];
    in.get(b);
    return b;
  }

  private String utf8(int n) {
    return new String(bytes(n), StandardCharsets.UTF_8);
  }

  private String latin1(int n) {
    return new String(bytes(n), StandardCharsets.ISO_8859_1);
  }

  private GraftException malformed(int at, String what) {
    return GraftException.invalid("%s: %s at byte %d of the pickle", source, what, at);
  }

  private static String describe(Object o) {
    return o == null ? "None" : o.getClass().getSimpleName();
  }
}
