/**
 * The HTTP face of class-incremental heads: the {@code /models/{m}/heads} endpoints, their JSON
 * views and the request body codec. Depends on {@code head}, {@code model} and {@code http}; none
 * of them depends on it except the router.
 */
package dev.graft.plugin.head.http;
