package dev.graft.host;

/** A plugin that cannot be loaded; the message names the plugin (and class, where there is one). */
public final class PluginLoadException extends Exception {
  private static final long serialVersionUID = 1L;

  public PluginLoadException(String message) {
    super(message);
  }

  public PluginLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
