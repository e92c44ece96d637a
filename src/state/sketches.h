// Bounded-memory sketches for per-account and per-cluster state. All are fixed-size, trivially
// copyable, and mergeable (Merge), so shards can combine them at the barrier and a cluster's
// state is the Combine() of its members'. Hll and TopK encode themselves field by field
// (Save/Load, common/binary_io.h) for snapshots and eviction rows.
//
// - Hll<P>: HyperLogLog with 2^P one-byte registers and an incrementally maintained harmonic sum,
//   so Estimate() is O(1) on the per-event path.
// - TopK<K>: Space-Saving heavy hitters over 64-bit keys (template skeletons, system prompts).
// - LogHistogram: counts over log2 buckets (4 per octave); quantiles for peer baselines.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

#include "common/binary_io.h"

namespace dg::state {

// 2^-r for every HyperLogLog rank (exact powers of two: the same values std::ldexp gives, without
// its cost on the merge path, which recomputes the harmonic sum of every register).
inline constexpr std::array<float, 66> kPow2Neg = [] {
  std::array<float, 66> t{};
  float v = 1.0f;
  for (auto& x : t) {
    x = v;
    v *= 0.5f;
  }
  return t;
}();

template <int P>
class Hll {
 public:
  static constexpr int kRegisters = 1 << P;
  Hll() { sum_ = static_cast<float>(kRegisters); }
  void Add(uint64_t hash) {
    const uint32_t idx = static_cast<uint32_t>(hash >> (64 - P));
    const uint64_t rest = (hash << P) | (uint64_t{1} << (P - 1));
    const uint8_t rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
    if (rank > reg_[idx]) {
      sum_ += kPow2Neg[rank] - kPow2Neg[reg_[idx]];
      if (reg_[idx] == 0) --zeros_;
      reg_[idx] = rank;
    }
  }
  double Estimate() const {
    constexpr double m = kRegisters;
    const double alpha = P == 4   ? 0.673
                         : P == 5 ? 0.697
                         : P == 6 ? 0.709
                                  : 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum_;
    if (e <= 2.5 * m && zeros_ > 0) e = m * std::log(m / zeros_);  // linear counting
    return e;
  }
  void Merge(const Hll& o) {
    for (int i = 0; i < kRegisters; ++i) reg_[i] = std::max(reg_[i], o.reg_[i]);
    Recompute();
  }
  // Field-wise encoding (registers, then the running sum and zero count as kept, so a loaded
  // sketch estimates bit for bit as the saved one). Load refuses ranks Add() cannot produce.
  void Save(Writer& w) const {
    for (uint8_t r : reg_) w.Pod(r);
    w.Pod(sum_);
    w.Pod(zeros_);
  }
  bool Load(Reader& r) {
    for (uint8_t& x : reg_) {
      if (!r.Pod(x) || x > 65 - P) return r.Fail();
    }
    if (!r.Pod(sum_) || !r.Pod(zeros_) || zeros_ > kRegisters) return r.Fail();
    return true;
  }

 private:
  void Recompute() {
    double s = 0;
    uint16_t z = 0;
    for (auto r : reg_) {
      s += kPow2Neg[r];
      z += r == 0;
    }
    sum_ = static_cast<float>(s);
    zeros_ = z;
  }
  std::array<uint8_t, kRegisters> reg_{};
  float sum_;
  uint16_t zeros_ = kRegisters;
};

template <int K>
class TopK {
 public:
  struct Entry {
    uint64_t key = 0;
    uint32_t count = 0;
    uint32_t error = 0;
  };
  void Add(uint64_t key, uint32_t inc = 1) {
    total_ += inc;
    int min_i = 0;
    for (int i = 0; i < K; ++i) {
      if (e_[i].count != 0 && e_[i].key == key) {
        e_[i].count += inc;
        return;
      }
      if (e_[i].count < e_[min_i].count) min_i = i;
    }
    Entry& m = e_[min_i];
    m.error = m.count;
    m.key = key;
    m.count += inc;
  }
  // Share of all additions held by the heaviest key (lower bound: count - error).
  double TopShare() const {
    if (total_ == 0) return 0;
    uint32_t best = 0;
    for (const auto& e : e_) best = std::max(best, e.count - e.error);
    return static_cast<double>(best) / total_;
  }
  // Share held by the top n keys.
  double TopNShare(int n) const {
    if (total_ == 0) return 0;
    std::array<uint32_t, K> c{};
    for (int i = 0; i < K; ++i) c[i] = e_[i].count - e_[i].error;
    std::sort(c.begin(), c.end(), std::greater<>());
    uint64_t s = 0;
    for (int i = 0; i < n && i < K; ++i) s += c[i];
    return static_cast<double>(s) / total_;
  }
  const Entry& Top() const {
    const Entry* best = &e_[0];
    for (const auto& e : e_) {
      if (e.count - e.error > best->count - best->error) best = &e;
    }
    return *best;
  }
  uint64_t total() const { return total_; }
  const std::array<Entry, K>& entries() const { return e_; }
  // Lower bound on the count of `key` (0 if it is not tracked).
  uint32_t Guaranteed(uint64_t key) const {
    for (const auto& e : e_) {
      if (e.count != 0 && e.key == key) return e.count - e.error;
    }
    return 0;
  }
  void Merge(const TopK& o) {
    // In Space-Saving the listed counts sum to the total, so adding them carries o's total over.
    for (const auto& e : o.e_) {
      if (e.count) Add(e.key, e.count);
    }
  }
  // Field-wise encoding: each entry's key, count and error, then the total.
  void Save(Writer& w) const {
    for (const auto& e : e_) {
      w.Pod(e.key);
      w.Pod(e.count);
      w.Pod(e.error);
    }
    w.Pod(total_);
  }
  bool Load(Reader& r) {
    for (auto& e : e_) {
      r.Pod(e.key);
      r.Pod(e.count);
      r.Pod(e.error);
    }
    return r.Pod(total_);
  }

 private:
  std::array<Entry, K> e_{};
  uint64_t total_ = 0;
};

class LogHistogram {
 public:
  static constexpr int kBuckets = 160;  // 4 per octave: 1 .. 2^40
  static int Bucket(double x) {
    if (!(x >= 1)) return 0;
    int b = static_cast<int>(4.0 * std::log2(x)) + 1;
    return std::min(b, kBuckets - 1);
  }
  static double BucketValue(int b) { return b == 0 ? 0.0 : std::exp2((b - 0.5) / 4.0); }
  void Add(int bucket, int64_t inc = 1) {
    counts_[bucket] += inc;
    total_ += inc;
  }
  double Quantile(double q) const {
    if (total_ <= 0) return 0;
    const double target = q * static_cast<double>(total_);
    int64_t acc = 0;
    for (int b = 0; b < kBuckets; ++b) {
      acc += counts_[b];
      if (acc >= target && counts_[b] > 0) return BucketValue(b);
    }
    return BucketValue(kBuckets - 1);
  }
  int64_t total() const { return total_; }
  void Merge(const LogHistogram& o) {
    for (int b = 0; b < kBuckets; ++b) counts_[b] += o.counts_[b];
    total_ += o.total_;
  }

 private:
  std::array<int64_t, kBuckets> counts_{};
  int64_t total_ = 0;
};

}  // namespace dg::state
