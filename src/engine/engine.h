// Engine: per-account state sharded by account, processed in event-time order, with the
// cross-account work (peer baselines, linking, cluster verdicts) done at batch barriers.
//
// Life of an event: Push() appends the (already time-ordered) EventRecord to the current batch.
// A batch never spans an epoch boundary (event time, `epoch` long): when an event of a later
// epoch arrives, the batch is processed - each shard's events by one thread, in order, with no
// locks - and then the barrier runs single-threaded in a fixed order. Per-event scoring reads
// only the account's own state and the PeerBaselines frozen at the last barrier, and barriers
// fall at event-time boundaries, so the report is the same for any thread count or batch size,
// and the same whether events come from `scan` or from a live feed.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/chunked_vector.h"
#include "common/worker_pool.h"
#include "core/event.h"
#include "core/names.h"
#include "detectors/detector.h"
#include "engine/state_table.h"
#include "linking/indicators.h"
#include "linking/linker.h"
#include "linking/posting.h"
#include "scoring/scorer.h"
#include "state/account_state.h"

namespace dg::engine {

// The shared types of core/ (EventRecord, hash kinds, names) are used unqualified here.
using namespace core;

struct EngineOptions {
  int threads = 1;
  // Barrier cadence (event time): linking and cluster verdicts lag events by up to one epoch,
  // and a fresh account of a flagged campaign is served until the next barrier. Clusters whose
  // membership did not change are recombined from their members at most every cluster_rescore
  // (a large cluster's Combine() is the barrier's main cost); joins to a flagged cluster are
  // decided at every barrier.
  TimeUs epoch = 2 * kUsPerMin;
  TimeUs cluster_rescore = 10 * kUsPerMin;
  size_t batch_max = 1 << 16;
  // Every detector asks for its own support (10 to 50 requests); the floor only spares the
  // scorer the first requests of every account. Network hops need three requests.
  uint64_t min_requests_to_score = 3;
  uint64_t min_requests_for_peers = 20;
  // An account first active within this long of its creation is "fresh". One the registry does
  // not date (no registry, or missing from it) is fresh in its cluster's evidence when first seen
  // this long after the input's first event: accounts seen in the first hours may be of any age,
  // later ones are new to the traffic (a hydra brought online over hours). < 0: never.
  TimeUs fresh_account_age = 14 * kUsPerDay;
  TimeUs undated_new_after = 6 * kUsPerHour;
  // What an account posts to the linker (its fresh_account_age is set from the one above).
  linking::PostingOptions posting;
  scoring::ScoringModel model = scoring::ScoringModel::Builtin();
  linking::LinkerOptions linker;
  // Known indicators from threat intelligence / partners (borrowed; may be null).
  const linking::IndicatorList* indicators = nullptr;
  // Training only (`distillguard train`): called with an account's state as its request count
  // reaches 3 and each power of two from 4, the states the model decides on mid-stream. Called
  // from worker threads when threads > 1.
  std::function<void(const state::AccountState&)> checkpoint;
};

// Idle-account eviction (engine_evict.cc): an account with no event for `idle` of event time
// leaves memory at a barrier, its state (with its end-user and key trackers and its verdict)
// written to an EvictStore (SQLite) at `path`, and is restored, unchanged, before its next event
// is processed or when it is linked into a cluster. Accounts in a cluster of two or more stay
// resident (cluster verdicts recombine their members). Reports are the same with and without
// eviction: call RestoreAll() before building one.
struct EvictOptions {
  TimeUs idle = 0;  // 0 = never evict
  std::string path;
  // true (serve): synchronous=FULL, and a restored account's row is kept until a checkpoint no
  // longer names it (EvictCheckpointBegin/Done), so a restart from the last checkpoint finds every
  // row it needs. false (scan): a scratch store, emptied on open, rows deleted once restored.
  bool durable = true;
};

struct EvictStats {
  uint64_t resident = 0;  // accounts whose state is in memory
  uint64_t evicted = 0;   // accounts whose state is in the store
  uint64_t evictions = 0, restores = 0;
  uint64_t evicted_flagged = 0;  // of the evicted accounts, those flagged
  uint64_t errors = 0;  // store failures (the accounts concerned stay resident, or restart empty)
};

// Verdict changes, delivered on the thread that calls Push/Finish, in a deterministic order
// (after each batch: by ts, then account), so alert sinks see the same sequence as the report.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  // An account reached the flag level (on its own, or with its cluster).
  virtual void OnAccountFlagged(const state::AccountState& account, TimeUs at, bool by_cluster) = 0;
  // A batch barrier completed at event time `at` (all verdicts up to `at` are final).
  virtual void OnBarrier(TimeUs at) {}
  // Every event, as it enters the engine (Push order: event time, after the reorder buffer).
  virtual void OnEvent(const EventRecord& r) {}
};

// Parts of an account judged on their own: the end users of a multi-tenant account (SaaS apps,
// resellers, routers) and the API keys of an account that uses several (a company's keys). The
// heaviest units (Space-Saving over their ids) each get a full state and verdict, so a campaign
// hidden among a reseller's customers, or one abused key of a company, is surfaced by its id
// without condemning the account.
// A unit whose guaranteed count reaches kPromote gets a state slot. Slots are allocated as units
// are promoted: an app that passes a `user` field but has no heavy end user costs its
// Space-Saving table (1 KiB), not kSlots states. When all kSlots are used, a newcomer takes the
// slot of the lightest unit if that one has been seen less often. A flagged unit keeps its slot;
// so does a suspected one (any harvest evidence so far, kUnitSuspicion) while suspects hold at
// most half the slots: an extractor pacing itself among a reseller's busier customers would
// otherwise lose its state to each of them and start its evidence over.
struct UnitTracker {
  static constexpr size_t kSlots = 16;
  static constexpr uint32_t kPromote = 5;
  struct Slot {
    uint64_t unit = 0;  // hash of the end-user id or of the API key id
    uint32_t seen = 0;  // guaranteed request count when last updated
    state::AccountState state;
  };
  state::TopK<64> counts;
  std::vector<Slot> slots;  // at most kSlots

  // Field-wise encoding (snapshots and eviction rows; engine_snapshot.cc). Load returns false
  // on truncated or invalid input (more than kSlots slots included).
  void Save(Writer& w) const;
  bool Load(Reader& r);
};
using EndUserTracker = UnitTracker;

// An account that uses several API keys is judged key by key while one key carries most of its
// traffic: a company's abused key is flagged on its own (report `flagged_api_keys`, decisions
// per key) and the company's account is not flagged whole for it. An account defers to its keys
// while two or more are in use, fewer than two are flagged, and either one of its keys is clean
// (kKeyCleanRequests requests without reaching the end-user flag level: the company's own
// developers) or one key carries most of its traffic. It is judged whole again when its keys all
// look alike and none dominates (harvest spread over keys) or when two of its keys are flagged (a
// second key taking over from a contained one). An account flagged whole before its keys told it
// apart is rescoped to them (Engine::RescopeToKeys).
inline constexpr double kKeyDominantShare = 0.5;
inline constexpr uint32_t kKeyActiveRequests = 2;  // a key counts as in use from this many
inline constexpr uint32_t kKeyCleanRequests = 20;
// A unit is suspected (UnitTracker keeps its slot) once its peak score exceeds this multiple of
// the score of no evidence at all (the model's bias alone): harvest evidence of a few hundredths'
// strength moves it there; concealment or pace alone cannot (they count only beside harvest).
inline constexpr double kUnitSuspicion = 1.1;

struct ClusterVerdict {
  state::AccountState combined;
  state::Verdict verdict;
  TimeUs combined_at = -1;  // barrier at which `combined` was last rebuilt from all members
};

class Engine {
 public:
  static constexpr size_t kShards = 64;

  Engine(EngineOptions options, NameTable& names);
  ~Engine();

  // Registry facts for an account (before or after its first event).
  void SetRegistry(uint64_t account, const state::RegistryInfo& info);
  // Verdict changes go to `observer` (borrowed; may be null).
  void SetObserver(EngineObserver* observer) { observer_ = observer; }
  // Events must come in non-decreasing ts (late ones are tolerated, processed where they land).
  void Push(const EventRecord& r);
  // Processes the pending batch now without a barrier (the live service calls this so that
  // decisions see recent events; results are unchanged because barriers are event-time based).
  void Flush();
  // Processes what is pending and runs the final barrier.
  void Finish();

  // --- Results (valid after Finish, or between batches) ---
  struct AccountRef {
    const state::AccountState* state;
    uint32_t index;  // linker index
  };
  // All accounts, in linker-index order (first-seen order). With eviction on, `state` is null
  // for an evicted account (RestoreAll() first when every state is needed).
  std::vector<AccountRef> Accounts() const;
  const state::AccountState& AccountAt(uint32_t index) const;
  uint32_t ClusterOf(uint32_t index) const { return linker_.Find(index); }
  const ClusterVerdict* Cluster(uint32_t root) const;
  // Why the account `s` at linker index `index`, flagged with its cluster, joins the cluster's
  // verdict as its state and the linker stand now: its prompts through the cluster's template,
  // harvest evidence of its own, or an identity tie with the harvest detectors it shares with the
  // cluster; a card held by a flagged cluster's member. Empty if none of these holds any more.
  std::string JoinReason(uint32_t index, const state::AccountState& s) const;
  const linking::Linker& linker() const { return linker_; }
  const scoring::Scorer& scorer() const { return scorer_; }
  const EngineOptions& options() const { return opt_; }
  const detectors::PeerBaselines& peers() const { return peers_; }
  const NameTable& names() const { return names_; }
  uint64_t events() const { return events_; }
  TimeUs first_ts() const { return first_ts_; }
  TimeUs last_ts() const { return last_ts_; }
  uint64_t late_events() const { return late_; }
  // Readable names (account ids, networks, …) used for evidence.
  NameTable& mutable_names() { return names_; }
  // Looks an account up by hash; nullptr if never seen (or evicted).
  const state::AccountState* FindAccount(uint64_t account_hash) const;
  // Per-end-user tracking of a multi-tenant account; nullptr if it has none.
  const UnitTracker* EndUsersOf(uint64_t account_hash) const;
  // Per-key tracking of an account that uses several API keys; nullptr if it has none.
  const UnitTracker* KeysOf(uint64_t account_hash) const;
  // Registered accounts (SetRegistry) that have sent no request yet, with their payment
  // instrument: (account hash, payment hash) for those that have one, sorted.
  std::vector<std::pair<uint64_t, uint64_t>> SilentRegisteredByPayment() const;
  // Calls fn(account_hash, tracker) for every multi-tenant account (few; not in a fixed order).
  template <typename Fn>
  void ForEachEndUserTracker(Fn&& fn) const {
    for (const auto& shard : shards_) {
      for (const auto& [pos, tracker] : shard.tenants) fn(shard.states[pos].account, *tracker);
    }
  }
  // Calls fn(account_hash, tracker) for every account tracked key by key.
  template <typename Fn>
  void ForEachKeyTracker(Fn&& fn) const {
    for (const auto& shard : shards_) {
      for (const auto& [pos, tracker] : shard.keyed) fn(shard.states[pos].account, *tracker);
    }
  }

  // --- Durability (implemented in engine_snapshot.cc) ---
  // Serialises the complete engine state (accounts, linker, clusters, baselines, registry,
  // counters; not the pending batch: call Flush() first) in a versioned binary format.
  void SaveSnapshot(std::string& out) const;
  // Restores a snapshot written by SaveSnapshot into a freshly constructed engine with the same
  // options. Returns false (and sets *error) on a corrupt or incompatible snapshot.
  bool LoadSnapshot(std::string_view data, std::string* error);

  // --- Idle-account eviction (implemented in engine_evict.cc; see EvictOptions) ---
  // Opens the store and turns eviction on (before LoadSnapshot when restoring).
  bool EnableEviction(const EvictOptions& options, std::string* error);
  // A scratch copy of `live` (loaded from its snapshot) reads evicted accounts from live's store,
  // never writing to it or evicting.
  void ShareEvictStore(const Engine& live);
  bool evicting() const { return evict_ != nullptr; }
  // Brings every evicted account back into memory (before a report).
  void RestoreAll();
  // Deletes store rows no evicted account names (rows written after the checkpoint restored
  // from, or superseded before it): call after LoadSnapshot or on a fresh start.
  bool PruneEvictStore(std::string* error);
  // Around a durable checkpoint: rows superseded before Begin() are deleted by Done(), once the
  // checkpoint that no longer names them is on disk.
  void EvictCheckpointBegin();
  void EvictCheckpointDone();
  // Reads every evicted account's state back in turn, without keeping it (start-up: publish the
  // verdicts of accounts that are on disk). Returns how many were read.
  uint64_t ForEachEvicted(const std::function<void(const state::AccountState&, const UnitTracker*,
                                                   const UnitTracker*)>& fn);
  // Counts resident and evicted accounts (walks every shard).
  EvictStats evict_stats() const;
  // The running counters only (resident and evicted left 0; cheap); all 0 when eviction is off.
  EvictStats evict_counters() const;

 private:
  // Sizes of the records snapshots write whole (engine_snapshot.cc).
  static std::vector<uint64_t> RawSizes();

  struct Slot {
    uint32_t index = UINT32_MAX;  // linker index, assigned at the barrier
    uint32_t posted : 31 = 0;     // signature of the indicators last posted to the linker
    uint32_t touched : 1 = 0;
  };
  struct Shard {
    std::unordered_map<uint64_t, uint32_t> by_account;  // account hash -> position in states
    // Registry entries of this shard's accounts not seen yet (moved into the state on the first
    // event; per shard, so that shard workers erase from their own map).
    std::unordered_map<uint64_t, state::RegistryInfo> registry;
    StateTable states;  // stable addresses, resident or evicted (state_table.h)
    std::vector<Slot> slots;
    std::vector<uint32_t> touched;  // positions touched this epoch
    struct Created {
      uint64_t seq;  // of the account's first event
      uint32_t pos;
    };
    struct Flag {
      TimeUs ts;
      uint32_t pos;
    };
    std::unordered_map<uint32_t, std::unique_ptr<UnitTracker>> tenants;  // by position
    std::unordered_map<uint32_t, std::unique_ptr<UnitTracker>> keyed;    // by position
    std::vector<Created> created;  // accounts created this epoch
    std::vector<Flag> flagged;     // accounts flagged in this batch
  };
  struct DirEntry {
    uint32_t shard;
    uint32_t pos;
  };
  static size_t ShardOf(uint64_t account) { return (account >> 58) % kShards; }
  void ProcessBatch();
  void EmitFlags();
  void ProcessEvent(Shard& shard, const EventRecord& r);
  // Adds `r` to the tracker's slot for `unit` (promoting it if heavy enough) and scores the slot;
  // a unit may be flagged only if `may_flag`.
  void TrackUnit(UnitTracker& tracker, uint64_t unit, const state::AccountState& host,
                 const EventRecord& r, bool may_flag = true);
  // Just below the flag level (by the report's last decimal): what an account judged key by key
  // is ranked at most.
  float BelowFlag() const;
  // Whether an account's own flag waits for its keys (kKeyDominantShare above).
  bool DefersToKeys(const UnitTracker& keys) const;
  // The key tracker an account opens at its second key: its first key holds the account so far.
  static std::unique_ptr<UnitTracker> SeedFirstKey(const state::AccountState& s);
  // An account flagged whole on its own score before its other keys were seen (a leaked key
  // drained from midnight, the company's developers arriving in the morning) is rescoped to its
  // keys once it defers to them and one of them is flagged: the key stays contained, the account's
  // flag is withdrawn.
  void RescopeToKeys(state::AccountState& s, const UnitTracker& keys) const;
  // Scores `s` into `v` (an account's own verdict, an end user's, or a cluster's).
  // `host`: set when `s` is an end user's slot, to the account serving it (the end user is
  // compared with it, and flagged from the model's end-user level).
  // `may_flag`: false while the account defers to its keys (scored, not flagged).
  void ScoreState(const state::AccountState& s, state::Verdict& v, TimeUs ts, bool* newly_flagged,
                  const state::AccountState* host = nullptr,
                  std::array<uint8_t, state::kMaxDetectors>* strengths = nullptr,
                  bool may_flag = true);
  void Barrier(bool final = false);
  // `roots`: clusters to consider; `merged`: those whose membership changed (sorted).
  void ScoreClusters(const std::vector<uint32_t>& roots, const std::vector<uint32_t>& merged);
  void MatchKnownIndicators(state::AccountState& s);
  // `join_prefix`: the flagged cluster's template (JoinTemplate of its combined state), 0 if none.
  bool MemberJoinsVerdict(const state::AccountState& member, uint64_t join_prefix) const;
  // A quiet member (linker index `index`) tied to its flagged cluster by identity whose own few
  // requests show, by their shares, the harvest the cluster (`cluster`'s verdict) is flagged for.
  bool MemberSharesClusterHarvest(uint32_t index, const state::AccountState& member,
                                  const state::Verdict& cluster) const;
  // Harvest evidence of the account's own past the gate, with a `low` score.
  bool HasOwnHarvest(const state::AccountState& m) const;
  // A member read with its cluster's support: the harvest detectors it shares with the cluster
  // (Scorer::SharedHarvest; with `first_only`, the first) and, if any, its identity tie.
  struct LentReading {
    uint64_t shared = 0;
    double tie = 0;
  };
  LentReading ReadOnClusterSample(uint32_t index, const state::AccountState& member,
                                  const state::Verdict& cluster, bool first_only) const;
  // Eviction hooks (engine_evict.cc; no-ops when eviction is off).
  struct Evictor;
  void RestoreBatch();                                      // accounts of the pending batch
  void RestoreMembers(const std::vector<uint32_t>& roots);  // members of clusters to score
  void RestoreAt(uint32_t shard, uint32_t pos);
  void EvictIdle();  // at the end of a barrier

  EngineOptions opt_;
  NameTable& names_;
  scoring::Scorer scorer_;
  // The score from which a unit counts as suspected (kUnitSuspicion x the score of no evidence).
  double unit_suspicion_ = 0;
  linking::Linker linker_;
  WorkerPool pool_;
  std::vector<Shard> shards_;
  std::vector<DirEntry> directory_;  // linker index -> (shard, position); trivially copyable
  std::unordered_map<uint32_t, ClusterVerdict> clusters_;
  // Payment instruments held by members of flagged clusters, with the cluster's template and
  // score (as in Verdict::join_prefix): a new account paying with one joins the verdict at its
  // first templated request (kJoinPrompts), before the barrier that links it. Written at barriers.
  struct JoinTarget {
    uint64_t prefix = 0;
    float score = 0;
  };
  std::unordered_map<uint64_t, JoinTarget> flagged_payments_;
  std::vector<EventRecord> batch_;
  detectors::PeerBaselines peers_;
  state::LogHistogram peer_hist_;
  int64_t epoch_ = INT64_MIN;
  TimeUs first_ts_ = 0, last_ts_ = 0, max_ts_ = INT64_MIN;
  uint64_t events_ = 0, late_ = 0;
  EngineObserver* observer_ = nullptr;
  std::vector<std::pair<TimeUs, const state::AccountState*>> cluster_flags_;  // at the barrier
  std::shared_ptr<Evictor> evict_;  // null when eviction is off
};

}  // namespace dg::engine
