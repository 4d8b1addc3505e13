package dev.graft.onnx;

/** The Graft release this code belongs to (recorded in the provenance of files it writes). */
public final class Version {
  public static final String VERSION = "0.1.0";

  private Version() {}
}
