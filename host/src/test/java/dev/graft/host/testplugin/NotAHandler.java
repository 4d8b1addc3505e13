package dev.graft.host.testplugin;

/** Exported by mistake: has a public no-arg constructor but is no request handler. */
public final class NotAHandler {}
