package dev.graft.plugin.state;

import java.nio.file.Path;

/**
 * Where one model's durable state lives on disk.
 *
 * <p>A model served from a folder keeps {@code graft.json} (the manifest), {@code graft.json.lock}
 * (the cross-process lock), {@code adapters/<name>.rws} (signatures uploaded in request bodies) and
 * {@code heads/<head>/<sha256>.safetensors} (the weights of every kept head version) in that
 * folder. A model served from a bare {@code <stem>.onnx} (or {@code .pt}) file keeps {@code
 * <stem>.graft.json}, {@code <stem>.graft.json.lock} and {@code <stem>.adapters/} beside it, so
 * several bare models in one folder do not share state (bare models have no heads).
 *
 * @param folder the folder holding the files below
 * @param manifest the manifest file
 * @param lockFile the file locked while the manifest is read, changed and written
 * @param uploads the folder of signatures uploaded in request bodies
 */
public record StateLocation(Path folder, Path manifest, Path lockFile, Path uploads) {
  /** The manifest's file name in a model folder. */
  public static final String MANIFEST = "graft.json";

  /** The state of a model served from {@code folder}. */
  public static StateLocation forFolder(Path folder) {
    Path dir = folder.toAbsolutePath().normalize();
    return new StateLocation(
        dir, dir.resolve(MANIFEST), dir.resolve(MANIFEST + ".lock"), dir.resolve("adapters"));
  }

  /** The state of a model served from the bare file {@code model} ({@code .onnx}, {@code .pt}). */
  public static StateLocation forFile(Path model) {
    Path file = model.toAbsolutePath().normalize();
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = dot > 0 ? name.substring(0, dot) : name;
    Path dir = file.getParent();
    return new StateLocation(
        dir,
        dir.resolve(stem + "." + MANIFEST),
        dir.resolve(stem + "." + MANIFEST + ".lock"),
        dir.resolve(stem + ".adapters"));
  }

  /** The folder of head versions, relative to {@link #folder}. */
  public static final String HEADS = "heads";

  /**
   * Where the version of head {@code head} whose file has SHA-256 {@code sha256} is kept, relative
   * to {@link #folder} and {@code /}-separated (head names have no separators).
   */
  public static String headFile(String head, String sha256) {
    return HEADS + "/" + head + "/" + sha256 + ".safetensors";
  }

  /** Where the signature uploaded for adapter {@code name} is kept (names have no separators). */
  public Path upload(String name) {
    return uploads.resolve(name + ".rws");
  }
}
