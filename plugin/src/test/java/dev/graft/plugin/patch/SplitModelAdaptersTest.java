package dev.graft.plugin.patch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapter suite against the split runtime (cut after the first four layers, where the RWS
 * signatures end). The offline references stay whole-model sessions, so every exact comparison also
 * checks that stem + body computes bit for bit what the whole model does.
 */
class SplitModelAdaptersTest extends ModelAdaptersTest {
  @TempDir Path weightCache;

  @Override
  ModelRuntime openRuntime(String name, ModelFile file) {
    SplitOrtModelRuntime r =
        SplitOrtModelRuntime.open(
            name,
            file,
            ModelSettings.parse(Map.of("option.graft.split", "on"), "test"),
            weightCache);
    assertThat(r.layout().split()).as("precondition: %s is split", name).isTrue();
    return r;
  }
}
