// Micro-benchmarks of per-account state (issue 7): the sketches alone (HyperLogLog add,
// Space-Saving top-k add on skewed keys) and AccountState::Update on the demo stream's
// EventRecords (every account's state updated in stream order, as a shard thread does), plus the
// cost of a new account (state construction) and of Combine (cluster re-scoring).
#include <benchmark/benchmark.h>

#include <cmath>
#include <unordered_map>

#include "bench_data.h"
#include "state/account_state.h"
#include "state/sketches.h"

namespace {

using dg::state::AccountState;

std::vector<uint64_t> RandomHashes(size_t n, uint64_t seed) {
  std::vector<uint64_t> v(n);
  uint64_t x = seed;
  for (auto& h : v) {  // splitmix64
    x += 0x9E3779B97F4A7C15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    h = z ^ (z >> 31);
  }
  return v;
}

// Keys drawn with a Zipf(1) skew over `distinct` values (templates, agents, networks).
std::vector<uint64_t> ZipfKeys(size_t n, size_t distinct) {
  auto u = RandomHashes(n, 42);
  auto keys = RandomHashes(distinct, 7);
  std::vector<uint64_t> out(n);
  const double hn = std::log(static_cast<double>(distinct)) + 0.5772;
  for (size_t i = 0; i < n; ++i) {
    double r = static_cast<double>(u[i] >> 11) / 9007199254740992.0;
    size_t k = static_cast<size_t>(std::exp(r * hn)) % distinct;
    out[i] = keys[k];
  }
  return out;
}

template <int P>
void BM_HllAdd(benchmark::State& state) {
  const auto hashes = RandomHashes(1 << 16, 1);
  dg::state::Hll<P> h;
  size_t i = 0;
  for (auto _ : state) {
    h.Add(hashes[i++ & 0xffff]);
  }
  benchmark::DoNotOptimize(h.Estimate());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HllAdd<5>);
BENCHMARK(BM_HllAdd<8>);

void BM_HllEstimate(benchmark::State& state) {
  const auto hashes = RandomHashes(1000, 1);
  dg::state::Hll<8> h;
  for (auto x : hashes) h.Add(x);
  for (auto _ : state) benchmark::DoNotOptimize(h.Estimate());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HllEstimate);

template <int K>
void BM_TopKAdd(benchmark::State& state) {
  const auto keys = ZipfKeys(1 << 16, static_cast<size_t>(state.range(0)));
  dg::state::TopK<K> t;
  size_t i = 0;
  for (auto _ : state) t.Add(keys[i++ & 0xffff]);
  benchmark::DoNotOptimize(t.TopShare());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TopKAdd<4>)->Arg(8)->Arg(10000);
BENCHMARK(BM_TopKAdd<8>)->Arg(8)->Arg(10000);

// AccountState::Update over the demo stream (~33k events, ~320 accounts), states found through
// a hash map as in a shard.
void BM_AccountStateUpdate(benchmark::State& state) {
  const auto& records = dg::bench::DemoRecords();
  std::unordered_map<uint64_t, AccountState> states;
  for (const auto& r : records) states[r.account].account = r.account;
  for (auto _ : state) {
    for (const auto& r : records) states.find(r.account)->second.Update(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records.size()));
  state.counters["accounts"] = static_cast<double>(states.size());
}
BENCHMARK(BM_AccountStateUpdate)->Unit(benchmark::kMillisecond);

// A new account: constructing its state and inserting it into a shard's map.
void BM_AccountStateNew(benchmark::State& state) {
  std::unordered_map<uint64_t, AccountState> states;
  states.reserve(1 << 20);
  const auto keys = RandomHashes(1 << 20, 3);
  size_t i = 0;
  for (auto _ : state) {
    if (i == keys.size()) {
      state.PauseTiming();
      states.clear();
      i = 0;
      state.ResumeTiming();
    }
    states.try_emplace(keys[i++]);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["sizeof_AccountState"] = sizeof(AccountState);
}
BENCHMARK(BM_AccountStateNew);

// Combine: a cluster state as the sum of its members' (done at barriers for changed clusters).
void BM_AccountStateCombine(benchmark::State& state) {
  const auto& records = dg::bench::DemoRecords();
  std::unordered_map<uint64_t, AccountState> states;
  for (const auto& r : records) {
    auto& s = states[r.account];
    s.account = r.account;
    s.Update(r);
  }
  std::vector<const AccountState*> members;
  for (const auto& [k, s] : states) members.push_back(&s);
  for (auto _ : state) {
    AccountState cluster;
    for (const auto* m : members) cluster.Combine(*m);
    benchmark::DoNotOptimize(cluster.requests);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * members.size()));
}
BENCHMARK(BM_AccountStateCombine)->Unit(benchmark::kMicrosecond);

}  // namespace
