package dev.graft.plugin.testing;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test class whose tests share one {@link KServeFixture}: started in a temporary folder of the
 * class before the subclass's own {@code @BeforeAll} methods run, and closed after its {@code
 * AfterAll} methods.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AbstractKServeTest {
  /** The running fixture; set before the subclass's {@code @BeforeAll} methods run. */
  protected KServeFixture kserve;

  /** Config entries over the fixture's defaults; none unless overridden. */
  protected Map<String, String> extraConfig() {
    return Map.of();
  }

  @BeforeAll
  final void startKServe(@TempDir Path tmp) throws Exception {
    kserve = KServeFixture.start(tmp, extraConfig());
  }

  @AfterAll
  final void stopKServe() {
    if (kserve != null) {
      kserve.close();
    }
  }
}
