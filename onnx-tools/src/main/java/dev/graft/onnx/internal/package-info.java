/** Implementation detail of {@code dev.graft.onnx}: not an API, may change without notice. */
package dev.graft.onnx.internal;
