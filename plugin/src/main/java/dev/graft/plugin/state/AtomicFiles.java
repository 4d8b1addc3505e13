package dev.graft.plugin.state;

import dev.graft.onnx.GraftException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file replacement: the bytes go to a temporary file in the target's folder, which is
 * flushed to disk, renamed over the target in one step, and the folder itself is flushed so the
 * rename survives a power cut. A reader (or a process restarted after {@code kill -9} at any point)
 * sees either the old file or the new one, never a mix; an interrupted write leaves at most a
 * hidden {@code .<name>.*.tmp} file, which readers ignore. Stateless.
 */
final class AtomicFiles {
  private AtomicFiles() {}

  /**
   * Replaces {@code target} with {@code bytes}.
   *
   * @throws GraftException {@code INTERNAL} when the file cannot be written (nothing changed then)
   */
  static void write(Path target, byte[] bytes) {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
      syncDirectory(dir);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL,
          "cannot write " + target.getFileName() + " in " + dir + ": " + e.getMessage(),
          e);
    } finally {
      deleteQuietly(tmp);
    }
  }

  /** Flushes a folder's entries (a rename or a delete) to disk; a no-op where unsupported. */
  static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // some platforms cannot open a folder as a channel; the rename is still atomic there
    }
  }

  /** Deletes a file if it exists, ignoring failures (clean-up of files nothing refers to). */
  static void deleteQuietly(Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // best effort: an orphan file is harmless and is replaced by the next write of that name
    }
  }
}
