package dev.graft.plugin.state;

/**
 * One adapter as recorded in {@code graft.json}. Immutable.
 *
 * @param name the adapter's name
 * @param file the signature file: relative to the model store ({@code /}-separated) when inside it,
 *     else absolute (only where {@code model_url_pattern} allowed it)
 * @param sha256 the SHA-256 (hex) the file must have; another digest means the file changed
 * @param bytes the file's size
 * @param alpha the adapter's scale
 * @param attached whether it is part of the live weights
 * @param transfer whether it was registered onto other base weights of the same architecture
 * @param src what the client named as source ({@code <request body>} for uploads), for display
 */
public record AdapterEntry(
    String name,
    String file,
    String sha256,
    long bytes,
    double alpha,
    boolean attached,
    boolean transfer,
    String src) {}
