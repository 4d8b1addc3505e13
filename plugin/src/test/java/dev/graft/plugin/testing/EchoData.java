package dev.graft.plugin.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Three values per data type for the echo model, as JSON text (canonical Java formatting, so the
 * echoed JSON must match character for character) and as the protocol's raw little-endian bytes
 * (written here independently of the plugin's converters).
 */
public final class EchoData {
  /** Type name to the JSON array of its three values. */
  public static final Map<String, String> JSON = new LinkedHashMap<>();

  static {
    JSON.put("BOOL", "[true,false,true]");
    JSON.put("UINT8", "[0,7,255]");
    JSON.put("INT8", "[-128,0,127]");
    JSON.put("INT16", "[-32768,1,32767]");
    JSON.put("INT32", "[-2147483648,0,2147483647]");
    JSON.put("INT64", "[0,70000,9007199254740993]");
    JSON.put("FP16", "[0.5,-2.0,1024.0]");
    JSON.put("FP32", "[0.1,-1.5,3.4028235E38]");
    JSON.put("FP64", "[0.1,-1.5,1.0E300]");
    JSON.put("BF16", "[1.5,-3.0,256.0]");
    JSON.put("BYTES", "[\"a\",\"\u00fc\",\"\"]");
  }

  /** What the Cast outputs hold for the INT64 values (wrapped to the unsigned width). */
  public static final Map<String, String> UNSIGNED_JSON =
      Map.of(
          "UINT16", "[0,4464,1]",
          "UINT32", "[0,70000,1]",
          "UINT64", "[0,70000,9007199254740993]");

  private EchoData() {}

  /** The raw form of a type's three values. */
  public static byte[] raw(String type) {
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case "BOOL" -> b.put((byte) 1).put((byte) 0).put((byte) 1);
      case "UINT8" -> b.put((byte) 0).put((byte) 7).put((byte) 255);
      case "INT8" -> b.put((byte) -128).put((byte) 0).put((byte) 127);
      case "INT16" -> b.putShort((short) -32768).putShort((short) 1).putShort((short) 32767);
      case "INT32" -> b.putInt(Integer.MIN_VALUE).putInt(0).putInt(Integer.MAX_VALUE);
      case "INT64", "UINT64" -> b.putLong(0).putLong(70000).putLong(9007199254740993L);
      case "UINT16" -> b.putShort((short) 0).putShort((short) 4464).putShort((short) 1);
      case "UINT32" -> b.putInt(0).putInt(70000).putInt(1);
      case "FP16" -> b.putShort((short) 0x3800).putShort((short) 0xC000).putShort((short) 0x6400);
      case "FP32" -> b.putFloat(0.1f).putFloat(-1.5f).putFloat(Float.MAX_VALUE);
      case "FP64" -> b.putDouble(0.1).putDouble(-1.5).putDouble(1.0e300);
      case "BF16" -> b.putShort((short) 0x3FC0).putShort((short) 0xC040).putShort((short) 0x4380);
      case "BYTES" -> {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String s : new String[] {"a", "\u00fc", ""}) {
          byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
          out.writeBytes(
              ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length).array());
          out.writeBytes(bytes);
        }
        return out.toByteArray();
      }
      default -> throw new IllegalArgumentException(type);
    }
    byte[] out = new byte[b.position()];
    b.flip().get(out);
    return out;
  }

  /** A JSON request for the echo model with every input; {@code override} replaces inputs. */
  public static String jsonRequest(Map<String, String> override, String extraTopLevel) {
    StringBuilder sb = new StringBuilder("{");
    if (!extraTopLevel.isEmpty()) {
      sb.append(extraTopLevel).append(',');
    }
    sb.append("\"inputs\":[");
    boolean first = true;
    for (Map.Entry<String, String> e : JSON.entrySet()) {
      String input =
          override.getOrDefault(
              e.getKey(),
              "{\"name\":\"in_"
                  + e.getKey()
                  + "\",\"shape\":[3],\"datatype\":\""
                  + e.getKey()
                  + "\",\"data\":"
                  + e.getValue()
                  + "}");
      sb.append(first ? "" : ",").append(input);
      first = false;
    }
    return sb.append("]}").toString();
  }
}
