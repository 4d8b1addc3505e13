package dev.graft.plugin.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.PoolArenaMetric;
import io.grpc.netty.shaded.io.netty.buffer.PoolChunkListMetric;
import io.grpc.netty.shaded.io.netty.buffer.PoolChunkMetric;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The gRPC server's buffer pool keeps its chunk across large requests, where grpc-java's 2 MiB
 * chunks are freed and mapped again every time.
 */
class NetworkBuffersTest {
  /** What a 588 KiB request holds until it is parsed: read and cumulation buffers. */
  private static final int HELD_BUFFERS = 10;

  private static final int HELD_BYTES = 128 << 10;
  private static final int REQUESTS = 6;

  @Test
  void largeRequestsReuseOneChunk() {
    Set<PoolChunkMetric> chunks = chunksUsedBy(NetworkBuffers.newPool());
    assertThat(chunks)
        .as("every request's buffers came from the chunk the first one created")
        .hasSize(1);
  }

  @Test
  void grpcJavasTwoMebibyteChunksAreRemappedPerRequest() {
    // the pool grpc-java builds for itself: Netty's defaults but 2^8 pages of 8 KiB per chunk
    PooledByteBufAllocator grpcDefault =
        new PooledByteBufAllocator(
            true,
            0,
            1,
            8192,
            8,
            PooledByteBufAllocator.defaultSmallCacheSize(),
            PooledByteBufAllocator.defaultNormalCacheSize(),
            PooledByteBufAllocator.defaultUseCacheForAllThreads());
    assertThat(chunksUsedBy(grpcDefault))
        .as("a fresh chunk per request: the churn the server's own pool avoids")
        .hasSize(REQUESTS);
  }

  @Test
  void theServersPoolHasEightMebibyteChunksInAtMostTwoArenas() {
    PooledByteBufAllocator pool = NetworkBuffers.allocator();
    assertThat(pool.metric().chunkSize()).isEqualTo(8 << 20);
    assertThat(pool.metric().numDirectArenas()).isBetween(1, 2);
    assertThat(pool.metric().numHeapArenas()).isZero();
  }

  /** Every chunk the pool's arenas held while each of {@link #REQUESTS} requests was in flight. */
  private static Set<PoolChunkMetric> chunksUsedBy(PooledByteBufAllocator pool) {
    Set<PoolChunkMetric> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (int r = 0; r < REQUESTS; r++) {
      List<ByteBuf> held = new ArrayList<>();
      for (int i = 0; i < HELD_BUFFERS; i++) {
        held.add(pool.directBuffer(HELD_BYTES, HELD_BYTES));
      }
      for (PoolArenaMetric arena : pool.metric().directArenas()) {
        for (PoolChunkListMetric list : arena.chunkLists()) {
          list.forEach(seen::add);
        }
      }
      held.forEach(ByteBuf::release);
    }
    return seen;
  }
}
