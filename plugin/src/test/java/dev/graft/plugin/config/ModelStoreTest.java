package dev.graft.plugin.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code url=} / {@code src=} references resolve to in the model store, and the attempts to
 * leave it that are refused.
 */
class ModelStoreTest {
  @TempDir Path tmp;

  private Path root;
  private Path outside;
  private ModelStore store;

  @BeforeEach
  void layout() throws Exception {
    root = Files.createDirectories(tmp.resolve("store"));
    outside = Files.createDirectories(tmp.resolve("elsewhere"));
    Files.writeString(root.resolve("inside.rws"), "x");
    Files.writeString(outside.resolve("secret.rws"), "x");
    store = new ModelStore(root, Optional.empty());
  }

  @Test
  void relativePathsResolveInsideTheStore() {
    assertThat(store.resolve("inside.rws", "src")).isEqualTo(root.resolve("inside.rws"));
    assertThat(store.resolve("./sub/../inside.rws", "src")).isEqualTo(root.resolve("inside.rws"));
    assertThat(store.resolve("missing.rws", "src"))
        .as("a missing file inside is the caller's 404")
        .isEqualTo(root.resolve("missing.rws"));
  }

  @Test
  void dotDotEscapeIsRefused() {
    assertRefused("../elsewhere/secret.rws", "outside the model store");
    assertRefused("sub/../../elsewhere/secret.rws", "outside the model store");
  }

  @Test
  void absolutePathElsewhereIsRefusedButInsideIsAccepted() {
    assertRefused(outside.resolve("secret.rws").toString(), "outside the model store");
    assertThat(store.resolve(root.resolve("inside.rws").toString(), "src"))
        .isEqualTo(root.resolve("inside.rws"));
  }

  @Test
  void symlinkPointingOutsideIsRefused() throws Exception {
    Files.createSymbolicLink(root.resolve("link.rws"), outside.resolve("secret.rws"));
    Files.createSymbolicLink(root.resolve("linkdir"), outside);

    assertRefused("link.rws", "symbolic link");
    assertRefused("linkdir/secret.rws", "symbolic link");
    assertRefused("linkdir/not-yet-there.rws", "symbolic link");
  }

  @Test
  void symlinkStayingInsideIsAccepted() throws Exception {
    Files.createSymbolicLink(root.resolve("alias.rws"), root.resolve("inside.rws"));
    assertThat(store.resolve("alias.rws", "src")).isEqualTo(root.resolve("alias.rws"));
  }

  @Test
  void fileUrisAreConfinedLikePaths() {
    assertThat(store.resolve(root.resolve("inside.rws").toUri().toString(), "url"))
        .isEqualTo(root.resolve("inside.rws"));
    assertRefused(outside.resolve("secret.rws").toUri().toString(), "outside the model store");
  }

  @Test
  void remoteUrlsAreRefused() {
    assertRefused("http://127.0.0.1/x.rws", "http URLs are not fetched");
    assertRefused("s3://bucket/x.rws", "s3 URLs are not fetched");
  }

  @Test
  void modelUrlPatternAllowsAPathOutside() {
    ModelStore lenient =
        new ModelStore(root, Optional.of(Pattern.compile(".*/elsewhere/.*\\.rws")));
    assertThat(lenient.resolve(outside.resolve("secret.rws").toString(), "src"))
        .isEqualTo(outside.resolve("secret.rws"));
    assertThatThrownBy(() -> lenient.resolve("../other/x.onnx", "url"))
        .isInstanceOf(GraftException.class);
  }

  @Test
  void emptyReferenceIsRefused() {
    assertRefused("", "src is required");
  }

  // attempts to leave the store through url= / src= references

  @Test
  void percentEncodedDotsInTheQueryAreDecodedOnceAndThenConfined() {
    String src =
        new QueryStringDecoder("/m?src=%2e%2e%2Felsewhere%2Fsecret.rws")
            .parameters()
            .get("src")
            .get(0);
    assertThat(src).isEqualTo("../elsewhere/secret.rws");
    assertRefused(src, "outside the model store");
  }

  @Test
  void doublyEncodedDotsAreALiteralFolderNameInsideTheStore() {
    assertThat(store.resolve("%2e%2e/elsewhere/secret.rws", "src"))
        .as("not decoded a second time: a (missing) folder named %%2e%%2e in the store")
        .isEqualTo(root.resolve("%2e%2e").resolve("elsewhere").resolve("secret.rws"))
        .startsWithRaw(root);
  }

  @Test
  void percentEncodedDotsInAFileUriAreConfinedAfterDecoding() {
    String uri = root.toUri() + "%2e%2e/elsewhere/secret.rws";
    assertRefused(uri, "outside the model store");
  }

  @Test
  void absolutePathsOutsideTheStoreAreRefused() {
    assertRefused("/etc/passwd", "outside the model store");
    assertRefused(root + "/../elsewhere/secret.rws", "outside the model store");
  }

  @Test
  void malformedReferencesAreRefused() {
    assertRefused("inside\u0000.rws", "not a valid path");
    assertRefused("file:inside.rws", "not a valid path");
    assertRefused("file://otherhost/inside.rws", "not a valid path");
    assertRefused("ftp://host/x.rws", "ftp URLs are not fetched");
  }

  @Test
  void aSymlinkChainThatEndsOutsideIsRefused() throws Exception {
    Path hop = Files.createDirectories(root.resolve("hop"));
    Files.createSymbolicLink(hop.resolve("up"), root.getParent());
    assertRefused("hop/up/elsewhere/secret.rws", "symbolic link");
  }

  @Test
  void aStoreThatIsItselfASymlinkStillServesItsOwnFiles() throws Exception {
    Path link = Files.createSymbolicLink(tmp.resolve("store-link"), root);
    ModelStore viaLink = new ModelStore(link, Optional.empty());
    assertThat(viaLink.resolve("inside.rws", "src")).isEqualTo(link.resolve("inside.rws"));
  }

  @Test
  void modelUrlPatternCannotBeEscapedWithDotDot() {
    ModelStore lenient =
        new ModelStore(
            root, Optional.of(Pattern.compile(Pattern.quote(outside.toString()) + "/.*")));

    assertThat(lenient.resolve(outside.resolve("secret.rws").toString(), "src"))
        .as("what the pattern allows")
        .isEqualTo(outside.resolve("secret.rws"));
    assertThatThrownBy(() -> lenient.resolve(outside + "/../../../etc/passwd", "src"))
        .as("matches the pattern as text, but climbs out of it")
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("'..'");
    assertThat(lenient.resolve("sub/../inside.rws", "src"))
        .as("'..' that stays in the store is fine")
        .isEqualTo(root.resolve("inside.rws"));
  }

  private void assertRefused(String reference, String message) {
    assertThatThrownBy(() -> store.resolve(reference, "src"))
        .as("refuse %s", reference)
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
        .hasMessageContaining(message);
  }
}
