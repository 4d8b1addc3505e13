/** Prometheus metrics of the plugin: requests, latencies, weight builds, heads, memory. */
package dev.graft.plugin.metrics;
