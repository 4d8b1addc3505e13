/**
 * The KServe v2 (Open Inference Protocol) operations shared by the REST and gRPC front ends: the
 * request and response values and the service that runs them.
 */
package dev.graft.plugin.kserve;
