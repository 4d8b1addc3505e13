/** Implementation details of the Graft plugin; not an API, may change at any time. */
package dev.graft.plugin.internal;
