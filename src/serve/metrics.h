// ServeMetrics: every counter and gauge of `serve` in one place, and their Prometheus text
// (GET /metrics). The components that count (router, WAL writer, ingest worker, handlers, the
// HTTP server through Service) hold a reference and bump relaxed atomics; nothing here locks.
// Counters owned elsewhere (the Store's decision log and webhook) are read when rendering.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "serve/config.h"

namespace dg::serve {

class Store;

struct ServeMetrics {
  std::atomic<uint64_t> batches{0}, bytes{0}, wal_syncs{0}, checkpoints{0}, alerts{0},
      auth_failures{0}, requests{0}, processed_seq{0}, bad_requests{0}, request_exceptions{0};
  std::atomic<uint64_t> reloads{0}, reload_failures{0};
  // Gauges the ingest thread sets at each publish.
  std::atomic<int64_t> events{0}, accounts{0}, flagged{0};
  std::atomic<int64_t> resident{0}, evictions{0}, restores{0}, evict_errors{0};

  // A decision by what it would do (before shadow mode), and, for /v1/decide, its latency.
  void CountDecision(Action would) { ++decisions_[static_cast<size_t>(would)]; }
  void ObserveDecideLatency(double us);

  // The Prometheus exposition. `engine_lag_s`: age of the oldest unapplied batch (0 if none).
  std::string Render(const Store& store, double engine_lag_s) const;

 private:
  static constexpr int kLatBuckets = 16;
  static constexpr double kLatBound0Us = 8;  // latency histogram: 8 µs · 2^i
  std::array<std::atomic<uint64_t>, 4> decisions_{};
  std::array<std::atomic<uint64_t>, kLatBuckets + 1> lat_{};  // decision latency histogram
  std::atomic<uint64_t> lat_sum_ns_{0};
};

}  // namespace dg::serve
