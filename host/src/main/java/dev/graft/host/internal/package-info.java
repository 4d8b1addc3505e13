/**
 * Netty pipeline pieces of the host. Implementation detail: not an API, may change without notice.
 */
package dev.graft.host.internal;
