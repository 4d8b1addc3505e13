package dev.graft.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * A test class that runs against one host process: the server {@link #serverBuilder} describes is
 * started, named after the class (its output goes to {@code it-logs/<Class>-<time>.log}), before
 * the subclass's own {@code @BeforeAll} methods, and closed after its {@code @AfterAll} methods,
 * also when they or the start failed. The tests of the class share it, one after another.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AbstractServerTest {
  /** The running server; set before the subclass's {@code @BeforeAll} methods run. */
  protected GraftServer server;

  /** A client of {@link #server}, shared by the class's tests. */
  protected GraftClient client;

  /** The server to start for this class; {@code name} is the class's simple name. */
  protected abstract GraftServer.Builder serverBuilder(String name);

  @BeforeAll
  final void startServer() {
    server = serverBuilder(getClass().getSimpleName()).start();
    client = server.client();
  }

  @AfterAll
  final void stopServer() {
    if (server != null) {
      server.close();
    }
  }
}
