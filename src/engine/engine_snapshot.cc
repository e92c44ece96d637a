// Engine snapshots (see Engine::SaveSnapshot): the whole engine state in one versioned binary
// blob, so the live service can checkpoint and restart without replaying history.
//
// Layout: magic "DGENGSN1", format version, compatibility fields (epoch length, model version),
// then sections in a fixed order: counters, peer baselines, registry, shards (account states are
// trivially copyable and written raw, each after a tag byte: 1 resident, 0 evicted followed by
// the account hash and its EvictStore row instead; as are the per-tenant trackers; the by-account
// index is rebuilt on load), directory,
// cluster verdicts, the pending batch, the linker (union-find, members, postings, pair weights)
// and the name table; finally an XXH3 checksum of everything before it. Hash maps are written in
// key order so that equal states give equal bytes.
//
// The Linker keeps its internals private and has no serialisation API; rather than
// widening its header this file reads them through pointers-to-member obtained with the
// explicit-instantiation access rule ([temp.spec]/6), which is standard C++. The name
// table goes through its public Sorted() and Insert().
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <type_traits>

#include "engine/engine.h"

namespace dg::engine {
namespace {

template <typename Tag, auto M>
struct Robber {
  friend auto Fetch(Tag) { return M; }
};
#define DG_SNAPSHOT_ACCESS(Tag, member) \
  struct Tag {                          \
    friend auto Fetch(Tag);             \
  };                                    \
  template struct Robber<Tag, &member>

DG_SNAPSHOT_ACCESS(LinkerParent, linking::Linker::parent_);
DG_SNAPSHOT_ACCESS(LinkerSize, linking::Linker::size_);
DG_SNAPSHOT_ACCESS(LinkerMembers, linking::Linker::members_);
DG_SNAPSHOT_ACCESS(LinkerPostings, linking::Linker::postings_);
DG_SNAPSHOT_ACCESS(LinkerPairs, linking::Linker::pair_weight_);
DG_SNAPSHOT_ACCESS(LinkerMerged, linking::Linker::merged_);
DG_SNAPSHOT_ACCESS(LinkerRefused, linking::Linker::refused_);
DG_SNAPSHOT_ACCESS(LinkerKindsPosted, linking::Linker::kinds_posted_);
DG_SNAPSHOT_ACCESS(LinkerPosters, linking::Linker::posters_);

constexpr char kMagic[8] = {'D', 'G', 'E', 'N', 'G', 'S', 'N', '1'};
constexpr uint32_t kVersion =
    14;  // 2: implied singleton member lists; 3: posted-indicator signature; 4: ASN vote;
         // 5: user-agent set, end-user slots on demand, prevalence; 6: parameter profile
         // (a kind more, quiet holders in postings); 7: network hops within sessions;
         // 8: address changes within sessions, agent/network combinations; 9: client countries;
         // 10: network hops across borders; 11: a cluster's harvest strength in its members'
         // verdicts; 12: per-key trackers, an account's first key; 13: evicted accounts' stubs;
         // 14: stated training purpose (AccountState::train_purpose)

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <typename T>
  void Pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <typename T>
  void PodVec(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    Pod<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  template <typename T, size_t N>
  void PodVec(const ChunkedVector<T, N>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    Pod<uint64_t>(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      out_.append(reinterpret_cast<const char*>(&v[i]), sizeof(T));
  }
  void Str(std::string_view s) {
    Pod<uint64_t>(s.size());
    out_.append(s.data(), s.size());
  }
  std::string& out() { return out_; }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Pod(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (in_.size() - pos_ < sizeof(T)) return Fail();
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Count(uint64_t& n, size_t elem_size) {
    if (!Pod(n)) return false;
    if (elem_size && n > (in_.size() - pos_) / elem_size) return Fail();
    return true;
  }
  template <typename T>
  bool PodVec(std::vector<T>& v) {
    uint64_t n;
    if (!Count(n, sizeof(T))) return false;
    v.resize(n);
    if (n) std::memcpy(v.data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  template <typename T, size_t N>
  bool PodVec(ChunkedVector<T, N>& v) {
    uint64_t n;
    if (!Count(n, sizeof(T))) return false;
    v.clear();
    v.grow_to(n);
    for (size_t i = 0; i < n; ++i) std::memcpy(&v[i], in_.data() + pos_ + i * sizeof(T), sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  bool Str(std::string& s) {
    uint64_t n;
    if (!Count(n, 1)) return false;
    s.assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  bool Fail() {
    ok_ = false;
    return false;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

template <typename Map>
std::vector<typename Map::key_type> SortedKeys(const Map& m) {
  std::vector<typename Map::key_type> keys;
  keys.reserve(m.size());
  for (const auto& kv : m) keys.push_back(kv.first);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

void Engine::SaveSnapshot(std::string& out) const {
  out.clear();
  Writer w(out);
  out.append(kMagic, sizeof(kMagic));
  w.Pod(kVersion);
  w.Pod<int64_t>(opt_.epoch);
  w.Str(opt_.model.version);
  w.Pod<uint64_t>(sizeof(state::AccountState));
  w.Pod<uint64_t>(sizeof(EventRecord));
  w.Pod<uint64_t>(sizeof(UnitTracker::Slot));

  // Counters and global state.
  w.Pod(epoch_);
  w.Pod(first_ts_);
  w.Pod(last_ts_);
  w.Pod(max_ts_);
  w.Pod(events_);
  w.Pod(late_);
  w.Pod(peers_);
  w.Pod(peer_hist_);

  // Registry.
  std::map<uint64_t, state::RegistryInfo> registry;  // unseen accounts of every shard, sorted
  for (const auto& shard : shards_) registry.insert(shard.registry.begin(), shard.registry.end());
  w.Pod<uint64_t>(registry.size());
  for (const auto& [k, info] : registry) {
    w.Pod(k);
    w.Pod(info);
  }

  // Shards. `flagged` is always empty between batches (EmitFlags drains it).
  w.Pod<uint64_t>(shards_.size());
  for (const Shard& s : shards_) {
    std::vector<uint64_t> hash_of;  // of evicted positions (their state, hence hash, is on disk)
    w.Pod<uint64_t>(s.states.size());
    for (size_t i = 0; i < s.states.size(); ++i) {
      if (const auto* st = s.states.get(i)) {
        w.Pod<uint8_t>(1);
        w.Pod(*st);
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
    w.PodVec(s.slots);
    w.PodVec(s.touched);
    w.PodVec(s.created);
    // Per-tenant trackers of multi-tenant accounts, by position.
    for (const auto* trackers : {&s.tenants, &s.keyed}) {
      w.Pod<uint64_t>(trackers->size());
      for (uint32_t pos : SortedKeys(*trackers)) {
        w.Pod(pos);
        w.Pod(trackers->at(pos)->counts);
        w.PodVec(trackers->at(pos)->slots);
      }
    }
  }
  w.PodVec(directory_);

  // Cluster verdicts.
  w.Pod<uint64_t>(clusters_.size());
  for (uint32_t root : SortedKeys(clusters_)) {
    w.Pod(root);
    w.Pod(clusters_.at(root));
  }
  w.PodVec(batch_);

  // Linker.
  const auto& parent = linker_.*Fetch(LinkerParent{});
  const auto& size = linker_.*Fetch(LinkerSize{});
  const auto& members = linker_.*Fetch(LinkerMembers{});
  const auto& postings = linker_.*Fetch(LinkerPostings{});
  const auto& pairs = linker_.*Fetch(LinkerPairs{});
  w.PodVec(parent);
  w.PodVec(size);
  w.Pod<uint64_t>(members.size());
  for (const auto& m : members) w.PodVec(m);
  w.Pod<uint64_t>(postings.size());
  for (uint64_t key : SortedKeys(postings)) {
    const auto& p = postings.at(key);
    w.Pod(key);
    w.PodVec(p.accounts);
    w.Pod(p.value);
    w.Pod(p.holders);
    w.Pod<uint8_t>(p.kind);
  }
  w.Pod<uint64_t>(pairs.size());
  for (uint64_t key : SortedKeys(pairs)) {
    w.Pod(key);
    w.Pod(pairs.at(key));
  }
  w.PodVec(linker_.*Fetch(LinkerMerged{}));
  w.Pod(linker_.*Fetch(LinkerRefused{}));
  w.PodVec(linker_.*Fetch(LinkerKindsPosted{}));
  w.Pod(linker_.*Fetch(LinkerPosters{}));

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
  uint64_t state_size = 0, event_size = 0, tracker_size = 0;
  r.Pod(version);
  if (version != kVersion) return fail("unsupported snapshot version");
  r.Pod(epoch);
  r.Str(model);
  r.Pod(state_size);
  r.Pod(event_size);
  r.Pod(tracker_size);
  if (!r.ok()) return fail("truncated header");
  if (epoch != opt_.epoch) return fail("epoch length differs from the engine's options");
  if (model != opt_.model.version) return fail("scoring model version differs");
  if (state_size != sizeof(state::AccountState) || event_size != sizeof(EventRecord) ||
      tracker_size != sizeof(UnitTracker::Slot)) {
    return fail("written by an incompatible build (state layout differs)");
  }

  r.Pod(epoch_);
  r.Pod(first_ts_);
  r.Pod(last_ts_);
  r.Pod(max_ts_);
  r.Pod(events_);
  r.Pod(late_);
  r.Pod(peers_);
  r.Pod(peer_hist_);

  uint64_t n = 0;
  for (auto& shard : shards_) shard.registry.clear();
  if (!r.Count(n, sizeof(uint64_t) + sizeof(state::RegistryInfo)))
    return fail("truncated registry");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t k;
    state::RegistryInfo info;
    r.Pod(k);
    r.Pod(info);
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
        r.Pod(s.states.emplace_back());
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
    if (!r.PodVec(s.slots) || !r.PodVec(s.touched) || !r.PodVec(s.created)) {
      return fail("truncated shard");
    }
    if (s.slots.size() != s.states.size()) return fail("inconsistent shard");
    for (auto* trackers : {&s.tenants, &s.keyed}) {
      uint64_t count = 0;
      if (!r.Count(count, sizeof(uint32_t) + sizeof(state::TopK<64>) + sizeof(uint64_t)))
        return fail("truncated unit trackers");
      for (uint64_t i = 0; i < count; ++i) {
        uint32_t pos = 0;
        auto tracker = std::make_unique<UnitTracker>();
        r.Pod(pos);
        r.Pod(tracker->counts);
        if (!r.PodVec(tracker->slots)) return fail("truncated unit tracker");
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
  if (!r.PodVec(directory_)) return fail("truncated directory");
  for (auto [si, pos] : directory_) {
    if (si >= kShards || pos >= shards_[si].states.size()) return fail("bad directory entry");
  }

  clusters_.clear();
  if (!r.Count(n, sizeof(uint32_t) + sizeof(ClusterVerdict))) return fail("truncated clusters");
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t root;
    ClusterVerdict cv;
    r.Pod(root);
    r.Pod(cv);
    clusters_.emplace(root, cv);
  }
  if (!r.PodVec(batch_)) return fail("truncated batch");

  auto& parent = linker_.*Fetch(LinkerParent{});
  auto& size = linker_.*Fetch(LinkerSize{});
  auto& members = linker_.*Fetch(LinkerMembers{});
  auto& postings = linker_.*Fetch(LinkerPostings{});
  auto& pairs = linker_.*Fetch(LinkerPairs{});
  if (!r.PodVec(parent) || !r.PodVec(size)) return fail("truncated linker");
  if (!r.Count(n, sizeof(uint64_t))) return fail("truncated linker members");
  members.assign(n, {});
  for (auto& m : members) {
    if (!r.PodVec(m)) return fail("truncated linker members");
  }
  if (parent.size() != size.size() || members.size() != parent.size() ||
      parent.size() != directory_.size()) {
    return fail("inconsistent linker");
  }
  for (uint32_t p : parent) {
    if (p >= parent.size()) return fail("bad linker parent");
  }
  postings.clear();
  if (!r.Count(n, 3 * sizeof(uint64_t))) return fail("truncated postings");
  postings.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t key;
    r.Pod(key);
    auto& p = postings[key];
    uint8_t kind = 0;
    r.PodVec(p.accounts);
    r.Pod(p.value);
    r.Pod(p.holders);
    r.Pod(kind);
    if (!r.ok() || kind >= linking::kIndicatorKinds) return fail("bad posting");
    p.kind = static_cast<linking::IndicatorKind>(kind);
  }
  pairs.clear();
  if (!r.Count(n, sizeof(uint64_t) + sizeof(float))) return fail("truncated pair table");
  pairs.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t key;
    float wgt;
    r.Pod(key);
    r.Pod(wgt);
    pairs.emplace(key, wgt);
  }
  if (!r.PodVec(linker_.*Fetch(LinkerMerged{})) || !r.Pod(linker_.*Fetch(LinkerRefused{})) ||
      !r.PodVec(linker_.*Fetch(LinkerKindsPosted{})) || !r.Pod(linker_.*Fetch(LinkerPosters{}))) {
    return fail("truncated linker");
  }
  if ((linker_.*Fetch(LinkerKindsPosted{})).size() != parent.size()) {
    return fail("inconsistent linker");
  }

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
