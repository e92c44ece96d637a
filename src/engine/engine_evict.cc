// Idle-account eviction (see EvictOptions in engine.h): the engine's hooks that move an idle
// account's state to the EvictStore and back.
//
// When: at the end of a barrier (after cluster scoring and flag emission, so nothing holds a
// pointer to the state), at most every max(epoch, idle / 8) of event time, accounts whose last
// event is `idle` or more before the latest event time leave memory, unless they are in a cluster
// of two or more or have no linker index yet. All rows of one pass are written in one
// transaction and the states are released only once it committed.
// Back: before a batch is processed, every evicted account the batch names is restored (on the
// calling thread, so shard workers never touch the store); before clusters are scored, evicted
// members of the clusters to score are restored (an account linked into a cluster "returns");
// RestoreAll() before a report. A restored state is byte for byte the evicted one, so results
// equal a run without eviction.
// Record: magic, the account state's field fingerprint, the state field by field
// (AccountState::Save, as in snapshots), then each of the end-user and key trackers (flag byte,
// UnitTracker::Save), and an XXH3 checksum of what precedes it. A row written by a build with
// another field list fails to decode and is counted as an error (the account starts afresh).
// Failpoint (crash tests): DG_FAILPOINT_KILL_AFTER_EVICT_WRITES=N sends SIGKILL to the process
// after the N-th row written, inside the transaction.
#include <signal.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "common/binary_io.h"
#include "common/hash.h"
#include "engine/engine.h"
#include "state/evict_store.h"

namespace dg::engine {

struct Engine::Evictor {
  EvictOptions opt;
  std::shared_ptr<state::EvictStore> store;
  bool read_only = false;  // a scratch copy reading the live engine's store
  TimeUs next_scan = INT64_MIN;
  std::vector<uint64_t> superseded;  // rows of accounts restored since
  std::vector<uint64_t> deletable;   // superseded before the checkpoint being written
  uint64_t kill_after = 0, writes = 0;
  EvictStats stats;
  std::string buf, data;
};

namespace {

constexpr uint32_t kRecordMagic = 0x32564544;  // "DEV2"

void PutTracker(Writer& w, const UnitTracker* t) {
  w.Pod<uint8_t>(t != nullptr);
  if (t) t->Save(w);
}

bool TakeTracker(Reader& r, std::unique_ptr<UnitTracker>& t) {
  uint8_t present = 0;
  if (!r.Pod(present) || present > 1) return false;
  if (!present) return true;
  t = std::make_unique<UnitTracker>();
  return t->Load(r);
}

}  // namespace

bool Engine::EnableEviction(const EvictOptions& options, std::string* error) {
  auto ev = std::make_shared<Evictor>();
  ev->opt = options;
  ev->store = std::make_shared<state::EvictStore>();
  if (!ev->store->Open(options.path, options.durable, /*fresh=*/!options.durable, error)) {
    return false;
  }
  if (const char* k = std::getenv("DG_FAILPOINT_KILL_AFTER_EVICT_WRITES")) {
    ev->kill_after = std::strtoull(k, nullptr, 10);
  }
  evict_ = std::move(ev);
  return true;
}

void Engine::ShareEvictStore(const Engine& live) {
  if (!live.evict_) return;
  auto ev = std::make_shared<Evictor>();
  ev->opt = live.evict_->opt;
  ev->store = live.evict_->store;
  ev->read_only = true;
  evict_ = std::move(ev);
}

EvictStats Engine::evict_counters() const { return evict_ ? evict_->stats : EvictStats{}; }

EvictStats Engine::evict_stats() const {
  EvictStats s = evict_ ? evict_->stats : EvictStats{};
  s.resident = s.evicted = 0;
  for (const auto& shard : shards_) {
    for (size_t i = 0; i < shard.states.size(); ++i)
      ++(shard.states.loaded(i) ? s.resident : s.evicted);
  }
  return s;
}

namespace {

bool DecodeRecord(std::string_view in, state::AccountState& s,
                  std::unique_ptr<UnitTracker>& tenants, std::unique_ptr<UnitTracker>& keyed) {
  if (in.size() <= 8) return false;
  uint64_t sum = 0;
  std::memcpy(&sum, in.data() + in.size() - 8, 8);
  in.remove_suffix(8);
  if (XXH3_64bits(in.data(), in.size()) != sum) return false;
  Reader r(in);
  uint32_t magic = 0;
  uint64_t fingerprint = 0;
  return r.Pod(magic) && magic == kRecordMagic && r.Pod(fingerprint) &&
         fingerprint == state::AccountState::LayoutFingerprint() && s.Load(r) &&
         TakeTracker(r, tenants) && TakeTracker(r, keyed) && r.done();
}

}  // namespace

void Engine::RestoreAt(uint32_t si, uint32_t pos) {
  Shard& shard = shards_[si];
  Evictor& ev = *evict_;
  const uint64_t row = shard.states.row(pos);
  auto s = std::make_unique<state::AccountState>();
  std::unique_ptr<UnitTracker> tenants, keyed;
  bool ok = ev.store->Get(row, &ev.data);
  if (ok && !DecodeRecord(ev.data, *s, tenants, keyed)) ok = ev.store->Fail("corrupt record");
  if (!ok) {
    // The account starts again from nothing (counted; a damaged store cannot give it back).
    ++ev.stats.errors;
    std::fprintf(stderr, "distillguard: cannot restore an evicted account: %s\n",
                 ev.store->error().c_str());
    *s = state::AccountState{};
    tenants.reset();
    keyed.reset();
    for (const auto& [h, p] : shard.by_account) {
      if (p == pos) s->account = h;
    }
  }
  if (!ev.read_only && s->verdict.flagged && ev.stats.evicted_flagged) --ev.stats.evicted_flagged;
  // Registry facts given while it was evicted (SetRegistry keeps them with the unseen accounts').
  if (auto reg = shard.registry.find(s->account); reg != shard.registry.end()) {
    s->registry = reg->second;
    shard.registry.erase(reg);
  }
  shard.states.Put(pos, std::move(s));
  if (tenants) shard.tenants[pos] = std::move(tenants);
  if (keyed) shard.keyed[pos] = std::move(keyed);
  ++ev.stats.restores;
  if (!ev.read_only) ev.superseded.push_back(row);
}

uint64_t Engine::ForEachEvicted(
    const std::function<void(const state::AccountState&, const UnitTracker*, const UnitTracker*)>&
        fn) {
  if (!evict_) return 0;
  Evictor& ev = *evict_;
  uint64_t n = 0, flagged = 0;
  state::AccountState s;
  for (const auto& shard : shards_) {
    for (size_t i = 0; i < shard.states.size(); ++i) {
      if (shard.states.loaded(i)) continue;
      std::unique_ptr<UnitTracker> tenants, keyed;
      if (!ev.store->Get(shard.states.row(i), &ev.data) ||
          !DecodeRecord(ev.data, s, tenants, keyed)) {
        ++ev.stats.errors;
        continue;
      }
      fn(s, tenants.get(), keyed.get());
      ++n;
      flagged += s.verdict.flagged;
    }
  }
  if (!ev.read_only) ev.stats.evicted_flagged = flagged;
  return n;
}

void Engine::RestoreBatch() {
  for (const auto& r : batch_) {
    const uint32_t si = static_cast<uint32_t>(ShardOf(r.account));
    Shard& shard = shards_[si];
    auto it = shard.by_account.find(r.account);
    if (it != shard.by_account.end() && !shard.states.loaded(it->second)) RestoreAt(si, it->second);
  }
}

void Engine::RestoreMembers(const std::vector<uint32_t>& roots) {
  for (uint32_t root : roots) {
    const auto members = linker_.Members(root);
    if (members.size() < 2) continue;
    for (uint32_t m : members) {
      auto [si, pos] = directory_[m];
      if (!shards_[si].states.loaded(pos)) RestoreAt(si, pos);
    }
  }
}

void Engine::RestoreAll() {
  if (!evict_) return;
  for (uint32_t si = 0; si < kShards; ++si) {
    for (uint32_t pos = 0; pos < shards_[si].states.size(); ++pos) {
      if (!shards_[si].states.loaded(pos)) RestoreAt(si, pos);
    }
  }
}

void Engine::EvictIdle() {
  Evictor& ev = *evict_;
  if (ev.read_only || ev.opt.idle <= 0 || max_ts_ < ev.next_scan) return;
  ev.next_scan = max_ts_ + std::max(opt_.epoch, ev.opt.idle / 8);
  const TimeUs cutoff = max_ts_ - ev.opt.idle;
  state::EvictStore& store = *ev.store;
  if (!store.Begin()) {
    ++ev.stats.errors;
    return;
  }
  bool ok = true;
  // A scratch store drops restored accounts' rows at once (nothing restarts from it).
  if (!ev.opt.durable) {
    for (uint64_t row : ev.superseded) ok = ok && store.Delete(row);
    ev.superseded.clear();
  }
  struct Out {
    uint32_t si, pos;
    uint64_t row;
  };
  std::vector<Out> out;
  for (uint32_t si = 0; si < kShards && ok; ++si) {
    Shard& shard = shards_[si];
    for (uint32_t pos = 0; pos < shard.states.size(); ++pos) {
      const state::AccountState* s = shard.states.get(pos);
      if (!s || s->last_ts > cutoff) continue;
      const Slot& slot = shard.slots[pos];
      if (slot.index == UINT32_MAX || slot.touched || linker_.ClusterSize(slot.index) > 1) continue;
      ev.buf.clear();
      Writer w(ev.buf);
      w.Pod(kRecordMagic);
      w.Pod(state::AccountState::LayoutFingerprint());
      s->Save(w);
      auto t = shard.tenants.find(pos);
      PutTracker(w, t == shard.tenants.end() ? nullptr : t->second.get());
      auto k = shard.keyed.find(pos);
      PutTracker(w, k == shard.keyed.end() ? nullptr : k->second.get());
      w.Pod<uint64_t>(XXH3_64bits(ev.buf.data(), ev.buf.size()));
      const uint64_t row = store.Insert(s->account, ev.buf);
      if (!row) {
        ok = false;
        break;
      }
      out.push_back({si, pos, row});
      ev.stats.evicted_flagged += s->verdict.flagged;
      if (ev.kill_after && ++ev.writes == ev.kill_after) ::kill(::getpid(), SIGKILL);
    }
  }
  if (!ok || !store.Commit()) {
    // Nothing leaves memory unless its row committed.
    ++ev.stats.errors;
    for (const auto& o : out)
      ev.stats.evicted_flagged -= shards_[o.si].states[o.pos].verdict.flagged;
    std::fprintf(stderr, "distillguard: eviction pass failed: %s\n", store.error().c_str());
    if (!ok) store.Commit();
    return;
  }
  for (const auto& o : out) {
    Shard& shard = shards_[o.si];
    shard.states.Release(o.pos, o.row);
    shard.tenants.erase(o.pos);
    shard.keyed.erase(o.pos);
  }
  ev.stats.evictions += out.size();
}

bool Engine::PruneEvictStore(std::string* error) {
  if (!evict_ || evict_->read_only) return true;
  std::vector<uint64_t> named;
  for (const auto& shard : shards_) {
    for (size_t i = 0; i < shard.states.size(); ++i) {
      if (!shard.states.loaded(i)) named.push_back(shard.states.row(i));
    }
  }
  std::sort(named.begin(), named.end());
  std::vector<uint64_t> stale;
  state::EvictStore& store = *evict_->store;
  bool ok = store.ForEachId([&](uint64_t id) {
    if (!std::binary_search(named.begin(), named.end(), id)) stale.push_back(id);
  });
  ok = ok && store.Begin();
  for (uint64_t id : stale) ok = ok && store.Delete(id);
  ok = ok && store.Commit();
  evict_->superseded.clear();
  evict_->deletable.clear();
  if (!ok && error) *error = store.error();
  return ok;
}

void Engine::EvictCheckpointBegin() {
  if (!evict_ || evict_->read_only) return;
  auto& ev = *evict_;
  ev.deletable.insert(ev.deletable.end(), ev.superseded.begin(), ev.superseded.end());
  ev.superseded.clear();
}

void Engine::EvictCheckpointDone() {
  if (!evict_ || evict_->read_only || evict_->deletable.empty()) return;
  auto& ev = *evict_;
  state::EvictStore& store = *ev.store;
  bool ok = store.Begin();
  for (uint64_t row : ev.deletable) ok = ok && store.Delete(row);
  ok = store.Commit() && ok;
  if (ok) {
    ev.deletable.clear();
  } else {
    ++ev.stats.errors;
  }
}

}  // namespace dg::engine
