// GCRA (generic cell rate algorithm) limiter: one "theoretical arrival time" per key, so a token
// bucket costs 8 bytes per key and one compare per request. Keys are spread over 64 mutex-guarded
// shards so concurrent decisions rarely contend. Time is the injected wall clock in µs.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "serve/config.h"

namespace dg::serve {

struct GcraResult {
  bool allowed = true;
  double retry_after_s = 0;  // when denied: wait this long
  double remaining = 0;      // units left in the bucket after this request
  double reset_s = 0;        // until the bucket is full again
};

class Gcra {
 public:
  // Charges `cost` units to `key` under `limit` at time `now`.
  GcraResult Take(uint64_t key, const RateLimit& limit, double cost, int64_t now_us) {
    GcraResult r;
    if (!limit.enabled()) return r;
    const double t = 1e6 / limit.rate;   // µs per unit
    const double tau = t * limit.burst;  // bucket depth in µs
    Shard& s = shards_[(key >> 50) % kShards];
    std::lock_guard lock(s.mu);
    auto& tat_ref = s.tat[key];
    const double tat = std::max<double>(static_cast<double>(tat_ref), static_cast<double>(now_us));
    const double new_tat = tat + t * cost;
    const double now = static_cast<double>(now_us);
    if (new_tat - now > tau) {
      r.allowed = false;
      r.retry_after_s = (new_tat - now - tau) / 1e6;
      r.remaining = std::max(0.0, (tau - (tat - now)) / t);
      r.reset_s = (tat - now) / 1e6;
      if (s.tat.size() > kMaxKeysPerShard) Sweep(s, now_us);
      return r;
    }
    tat_ref = static_cast<int64_t>(new_tat);
    r.remaining = std::max(0.0, (tau - (new_tat - now)) / t);
    r.reset_s = (new_tat - now) / 1e6;
    if (s.tat.size() > kMaxKeysPerShard) Sweep(s, now_us);
    return r;
  }

 private:
  static constexpr size_t kShards = 64;
  static constexpr size_t kMaxKeysPerShard = 1 << 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<uint64_t, int64_t> tat;
  };
  // Keys whose bucket is full again carry no information: forget them (bounded memory).
  static void Sweep(Shard& s, int64_t now) {
    for (auto it = s.tat.begin(); it != s.tat.end();) {
      it = it->second <= now ? s.tat.erase(it) : std::next(it);
    }
  }
  std::array<Shard, kShards> shards_;
};

}  // namespace dg::serve
