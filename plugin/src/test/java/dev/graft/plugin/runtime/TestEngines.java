package dev.graft.plugin.runtime;

import java.nio.file.Path;
import java.util.Map;

/** Engine gates for tests outside this package. */
public final class TestEngines {
  private TestEngines() {}

  /** The PyTorch engine gate of an ONNX-only deployment (the DJL jars absent). */
  public static PyTorchEngine pyTorchMissing(Path cacheDir) {
    return new PyTorchEngine("no.such.PtEngine", cacheDir, Map.of(), k -> null, k -> null);
  }
}
