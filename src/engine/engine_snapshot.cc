// Engine snapshots (see Engine::SaveSnapshot): the whole engine state in one versioned binary
// blob, so the live service can checkpoint and restart without replaying history. The format,
// its version history and the rules for changing it are in docs/SNAPSHOT.md.
//
// Layout: magic "DGENGSN1", format version, compatibility fields (epoch length, model version,
// the account state's field fingerprint, the sizes of the records still written whole), then
// sections in a fixed order: counters, peer baselines, registry, shards (each account state field
// by field after a tag byte: 1 resident, 0 evicted followed by the account hash and its
// EvictStore row instead; the per-tenant trackers; the by-account index is rebuilt on load),
// directory, cluster verdicts, the pending batch, the linker (Linker::Save) and the name table;
// finally an XXH3 checksum of everything before it. Hash maps are written in key order so that
// equal states give equal bytes. A snapshot of another version or field list is refused with a
// message, never misread: there is no migration (a service restarts from its WAL instead).
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "common/binary_io.h"
#include "engine/engine.h"

namespace dg::engine {
namespace {

constexpr char kMagic[8] = {'D', 'G', 'E', 'N', 'G', 'S', 'N', '1'};
constexpr uint32_t kVersion = 19;  // docs/SNAPSHOT.md

}  // namespace

void UnitTracker::Save(Writer& w) const {
  counts.Save(w);
  w.Pod<uint64_t>(slots.size());
  for (const auto& sl : slots) {
    w.Pod(sl.unit);
    w.Pod(sl.seen);
    sl.state.Save(w);
  }
}

bool UnitTracker::Load(Reader& r) {
  uint64_t n = 0;
  if (!counts.Load(r) || !r.Count(n, 12) || n > kSlots) return r.Fail();
  slots.resize(n);
  for (auto& sl : slots) {
    r.Pod(sl.unit);
    r.Pod(sl.seen);
    if (!sl.state.Load(r)) return false;
  }
  return true;
}

// Sizes of the records written whole (Writer::Raw): a build whose records differ refuses the file.
std::vector<uint64_t> Engine::RawSizes() {
  return {sizeof(EventRecord), sizeof(Slot),   sizeof(Shard::Created),
          sizeof(DirEntry),    sizeof(peers_), sizeof(peer_hist_)};
}

void Engine::SaveSnapshot(std::string& out) const {
  out.clear();
  Writer w(out);
  out.append(kMagic, sizeof(kMagic));
  w.Pod(kVersion);
  w.Pod<int64_t>(opt_.epoch);
  w.Str(opt_.model.version);
  w.Pod(state::AccountState::LayoutFingerprint());
  for (uint64_t size : RawSizes()) w.Pod(size);

  // Counters and global state.
  w.Pod(epoch_);
  w.Pod(first_ts_);
  w.Pod(last_ts_);
  w.Pod(max_ts_);
  w.Pod(events_);
  w.Pod(late_);
  w.Raw(peers_);
  w.Raw(peer_hist_);

  // Registry.
  std::map<uint64_t, state::RegistryInfo> registry;  // unseen accounts of every shard, sorted
  for (const auto& shard : shards_) registry.insert(shard.registry.begin(), shard.registry.end());
  w.Pod<uint64_t>(registry.size());
  for (const auto& [k, info] : registry) {
    w.Pod(k);
    state::Save(w, info);
  }

  // Shards. `flagged` is always empty between batches (EmitFlags drains it).
  w.Pod<uint64_t>(shards_.size());
  for (const Shard& s : shards_) {
    std::vector<uint64_t> hash_of;  // of evicted positions (their state, hence hash, is on disk)
    w.Pod<uint64_t>(s.states.size());
    for (size_t i = 0; i < s.states.size(); ++i) {
      if (const auto* st = s.states.get(i)) {
        w.Pod<uint8_t>(1);
        st->Save(w);
        continue;
      }
      if (hash_of.empty()) {
        hash_of.resize(s.states.size());
        for (const auto& [h, pos] : s.by_account) hash_of[pos] = h;
      }
      w.Pod<uint8_t>(0);
      w.Pod(hash_of[i]);
      w.Pod(s.states.row(i));
    }
    w.RawVec(s.slots);
    w.PodVec(s.touched);
    w.RawVec(s.created);
    // Per-tenant trackers of multi-tenant accounts, by position.
    for (const auto* trackers : {&s.tenants, &s.keyed}) {
      w.Pod<uint64_t>(trackers->size());
      for (uint32_t pos : SortedKeys(*trackers)) {
        w.Pod(pos);
        trackers->at(pos)->Save(w);
      }
    }
  }
  w.RawVec(directory_);

  // Cluster verdicts.
  w.Pod<uint64_t>(clusters_.size());
  for (uint32_t root : SortedKeys(clusters_)) {
    const ClusterVerdict& cv = clusters_.at(root);
    w.Pod(root);
    cv.combined.Save(w);
    state::Save(w, cv.verdict);
    w.Pod(cv.combined_at);
  }
  w.Pod<uint64_t>(flagged_payments_.size());
  for (uint64_t payment : SortedKeys(flagged_payments_)) {
    const JoinTarget& j = flagged_payments_.at(payment);
    w.Pod(payment);
    w.Pod(j.prefix);
    w.Pod(j.score);
  }
  w.RawVec(batch_);

  linker_.Save(w);

  // Name table.
  {
    const size_t kinds = static_cast<size_t>(NameKind::kCount);
    w.Pod<uint64_t>(kinds);
    for (size_t k = 0; k < kinds; ++k) {
      const auto names = names_.Sorted(static_cast<NameKind>(k));
      w.Pod<uint64_t>(names.size());
      for (const auto& [h, name] : names) {
        w.Pod(h);
        w.Str(name);
      }
    }
  }
  const uint64_t sum = XXH3_64bits(out.data(), out.size());
  w.Pod(sum);
}

bool Engine::LoadSnapshot(std::string_view data, std::string* error) {
  auto fail = [&](const char* what) {
    if (error) *error = std::string("engine snapshot: ") + what;
    return false;
  };
  if (data.size() < sizeof(kMagic) + 8 || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    return fail("not a snapshot (bad magic)");
  }
  uint64_t sum;
  std::memcpy(&sum, data.data() + data.size() - 8, 8);
  if (XXH3_64bits(data.data(), data.size() - 8) != sum) return fail("checksum mismatch");
  Reader r(data.substr(sizeof(kMagic), data.size() - sizeof(kMagic) - 8));
  uint32_t version = 0;
  int64_t epoch = 0;
  std::string model;
  uint64_t fingerprint = 0;
  if (!r.Pod(version)) return fail("truncated header");
  if (version != kVersion) {
    if (error) {
      *error = "engine snapshot: format version " + std::to_string(version) +
               ", this build reads " + std::to_string(kVersion) + " only (docs/SNAPSHOT.md)";
    }
    return false;
  }
  r.Pod(epoch);
  r.Str(model);
  r.Pod(fingerprint);
  auto sizes = RawSizes();
  for (uint64_t& size : sizes) r.Pod(size);
  if (!r.ok()) return fail("truncated header");
  if (epoch != opt_.epoch) return fail("epoch length differs from the engine's options");
  if (model != opt_.model.version) return fail("scoring model version differs");
  if (fingerprint != state::AccountState::LayoutFingerprint()) {
    return fail("account state fields differ (written by a build with another field list)");
  }
  if (sizes != RawSizes()) return fail("written by an incompatible build (record layout differs)");

  r.Pod(epoch_);
  r.Pod(first_ts_);
  r.Pod(last_ts_);
  r.Pod(max_ts_);
  r.Pod(events_);
  r.Pod(late_);
  r.Raw(peers_);
  r.Raw(peer_hist_);

  uint64_t n = 0;
  for (auto& shard : shards_) shard.registry.clear();
  if (!r.Count(n, sizeof(uint64_t) + 1)) return fail("truncated registry");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t k = 0;
    state::RegistryInfo info;
    r.Pod(k);
    if (!state::Load(r, info)) return fail("truncated registry");
    shards_[ShardOf(k)].registry[k] = info;
  }

  if (!r.Pod(n) || n != kShards) return fail("shard count differs");
  for (Shard& s : shards_) {
    auto registry = std::move(s.registry);  // read above
    s = Shard{};
    s.registry = std::move(registry);
    uint64_t n_states = 0;
    if (!r.Count(n_states, 1 + sizeof(uint64_t))) return fail("truncated shard");
    std::vector<std::pair<uint64_t, uint32_t>> evicted;  // account hash, position
    for (uint64_t i = 0; i < n_states; ++i) {
      uint8_t tag = 2;
      r.Pod(tag);
      if (tag == 1) {
        if (!s.states.emplace_back().Load(r)) return fail("truncated or invalid account state");
      } else if (tag == 0) {
        uint64_t h = 0, row = 0;
        r.Pod(h);
        r.Pod(row);
        if (!evict_ || row == 0 || row >= (uint64_t{1} << 62)) {
          return fail("evicted account without an eviction store");
        }
        s.states.push_evicted(row);
        evicted.emplace_back(h, static_cast<uint32_t>(i));
      } else {
        return fail("bad account state tag");
      }
      if (!r.ok()) return fail("truncated shard");
    }
    if (!r.RawVec(s.slots) || !r.PodVec(s.touched) || !r.RawVec(s.created)) {
      return fail("truncated shard");
    }
    if (s.slots.size() != s.states.size()) return fail("inconsistent shard");
    for (auto* trackers : {&s.tenants, &s.keyed}) {
      uint64_t count = 0;
      if (!r.Count(count, sizeof(uint32_t) + sizeof(uint64_t))) {
        return fail("truncated unit trackers");
      }
      for (uint64_t i = 0; i < count; ++i) {
        uint32_t pos = 0;
        auto tracker = std::make_unique<UnitTracker>();
        r.Pod(pos);
        if (!tracker->Load(r)) return fail("truncated unit tracker");
        if (pos >= s.states.size() || tracker->slots.size() > UnitTracker::kSlots) {
          return fail("bad unit tracker entry");
        }
        (*trackers)[pos] = std::move(tracker);
      }
    }
    s.by_account.reserve(s.states.size());
    for (uint32_t i = 0; i < s.states.size(); ++i) {
      if (s.states.loaded(i)) s.by_account.emplace(s.states[i].account, i);
    }
    for (auto [h, i] : evicted) s.by_account.emplace(h, i);
    for (const auto* trackers : {&s.tenants, &s.keyed}) {
      for (const auto& [pos, t] : *trackers) {
        if (!s.states.loaded(pos)) return fail("unit tracker of an evicted account");
      }
    }
  }
  if (!r.RawVec(directory_)) return fail("truncated directory");
  for (auto [si, pos] : directory_) {
    if (si >= kShards || pos >= shards_[si].states.size()) return fail("bad directory entry");
  }

  clusters_.clear();
  if (!r.Count(n, sizeof(uint32_t) + sizeof(TimeUs))) return fail("truncated clusters");
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t root = 0;
    ClusterVerdict cv;
    r.Pod(root);
    if (!cv.combined.Load(r) || !state::Load(r, cv.verdict) || !r.Pod(cv.combined_at)) {
      return fail("truncated cluster verdicts");
    }
    clusters_.emplace(root, cv);
  }
  flagged_payments_.clear();
  if (!r.Count(n, 2 * sizeof(uint64_t) + sizeof(float))) return fail("truncated join targets");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t payment = 0;
    JoinTarget j;
    if (!r.Pod(payment) || !r.Pod(j.prefix) || !r.Pod(j.score))
      return fail("truncated join targets");
    flagged_payments_.emplace(payment, j);
  }
  if (!r.RawVec(batch_)) return fail("truncated batch");

  std::string linker_error;
  if (!linker_.Load(r, &linker_error)) return fail(linker_error.c_str());
  if (linker_.accounts() != directory_.size()) return fail("inconsistent linker");

  if (!r.Pod(n) || n != static_cast<uint64_t>(NameKind::kCount)) return fail("name kinds differ");
  for (size_t k = 0; k < n; ++k) {
    uint64_t count;
    if (!r.Count(count, sizeof(uint64_t) + sizeof(uint64_t))) return fail("truncated names");
    std::string name;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t h;
      r.Pod(h);
      if (!r.Str(name)) return fail("truncated names");
      names_.Insert(static_cast<NameKind>(k), h, name);
    }
  }
  if (!r.ok()) return fail("truncated");
  if (!r.done()) return fail("trailing bytes");
  cluster_flags_.clear();
  return true;
}

}  // namespace dg::engine
