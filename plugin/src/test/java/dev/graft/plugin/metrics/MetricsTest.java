package dev.graft.plugin.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The text the Prometheus client writes for each kind of metric. */
class MetricsTest {
  private final Map<String, Long> bytes = new LinkedHashMap<>();
  private final List<Metrics.HeadVersionValue> heads = new ArrayList<>();
  private final Metrics metrics = new Metrics(() -> bytes, () -> heads);

  @Test
  void requestsAreCountedAndTimedPerModelAndProtocol() {
    metrics.request("m", Metrics.GRPC, "OK", 2_000_000, 5_000_000);
    metrics.request("m", Metrics.GRPC, "OK", 2_000_000, 5_000_000);
    metrics.request("m", Metrics.REST_V2, "503", -1, -1);

    assertThat(scrape())
        .contains("graft_requests_total{model=\"m\",protocol=\"grpc\",status=\"OK\"} 2")
        .contains("graft_requests_total{model=\"m\",protocol=\"rest_v2\",status=\"503\"} 1")
        .contains(
            "graft_request_queue_seconds_bucket{model=\"m\",protocol=\"grpc\",le=\"0.0025\"} 2")
        .contains("graft_request_compute_seconds_sum{model=\"m\",protocol=\"grpc\"} 0.01")
        .as("a request that never reached a worker has no latency")
        .doesNotContain("graft_request_queue_seconds_count{model=\"m\",protocol=\"rest_v2\"}");
  }

  @Test
  void headVersionsAreReadAtScrapeTime() {
    heads.add(new Metrics.HeadVersionValue("m", "fc", 3));
    assertThat(scrape()).contains("graft_head_version{head=\"fc\",model=\"m\"} 3.0");
    heads.set(0, new Metrics.HeadVersionValue("m", "fc", 4));
    assertThat(scrape()).contains("graft_head_version{head=\"fc\",model=\"m\"} 4.0");
    heads.clear();
    assertThat(scrape()).doesNotContain("graft_head_version{head=\"fc\"");
  }

  @Test
  void weightBytesAreReadAtScrapeTime() {
    bytes.put("a", 1000L);
    assertThat(scrape()).contains("graft_weight_bytes{model=\"a\"} 1000.0");
    bytes.put("a", 2500L);
    assertThat(scrape()).contains("graft_weight_bytes{model=\"a\"} 2500.0");
  }

  @Test
  void adapterOperationsAndBuildsAreRecorded() {
    metrics.adapterOperation("m", "attach", 2);
    metrics.adapterOperation("m", "detach", 0);
    metrics.weightsBuilt("m", "swap", 40_000_000);
    assertThat(scrape())
        .contains("graft_adapter_operations_total{model=\"m\",operation=\"attach\"} 2")
        .as("zero counts add no series")
        .doesNotContain("operation=\"detach\"")
        .contains("graft_weights_build_seconds_count{kind=\"swap\",model=\"m\"} 1");
  }

  private String scrape() {
    return new String(metrics.scrape(), StandardCharsets.UTF_8);
  }
}
