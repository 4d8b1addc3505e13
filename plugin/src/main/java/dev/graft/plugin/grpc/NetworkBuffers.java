package dev.graft.plugin.grpc;

import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;

/**
 * The buffer pool of the gRPC server's connections: pooled direct memory in 8 MiB chunks, in at
 * most two arenas.
 *
 * <p>grpc-java's own pool cuts its chunks at 2 MiB. A tensor of a few hundred KiB (a 224x224 RGB
 * image is 588 KiB) arrives in read and cumulation buffers that, held until the message is parsed,
 * fill a 2 MiB chunk past the pool's 25% mark; the chunk is then freed as soon as it empties, so
 * almost every large request mapped, zeroed and unmapped a fresh 2 MiB chunk (measured: a third of
 * the event loop's CPU per 588 KiB request). In 8 MiB chunks the same traffic stays in the chunk
 * the pool keeps: a chunk that was never more than a quarter full stays when it empties (so an idle
 * pool typically holds one per arena, 16 MiB), fuller ones are freed when they empty. One pool per
 * process, like grpc-java's, so that servers started and stopped in one JVM (tests) do not each
 * keep chunks.
 */
final class NetworkBuffers {
  /** 8 KiB pages, 2^10 of them per chunk: 8 MiB. */
  private static final int PAGE_SIZE = 8192;

  private static final int MAX_ORDER = 10;
  private static final int ARENAS = 2;

  private static final PooledByteBufAllocator POOL = newPool();

  private NetworkBuffers() {}

  /** The process's pool. */
  static PooledByteBufAllocator allocator() {
    return POOL;
  }

  /** A pool of this configuration (the process has one: {@link #allocator}). */
  static PooledByteBufAllocator newPool() {
    return new PooledByteBufAllocator(
        true,
        0,
        Math.min(ARENAS, Math.max(1, PooledByteBufAllocator.defaultNumDirectArena())),
        PAGE_SIZE,
        MAX_ORDER,
        PooledByteBufAllocator.defaultSmallCacheSize(),
        PooledByteBufAllocator.defaultNormalCacheSize(),
        PooledByteBufAllocator.defaultUseCacheForAllThreads());
  }
}
