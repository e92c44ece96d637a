// See engine.h.
#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/hash.h"

namespace dg::engine {

using state::AccountState;

Engine::Engine(EngineOptions options, NameTable& names)
    : opt_(std::move(options)),
      names_(names),
      scorer_(opt_.model),
      linker_(opt_.linker),
      pool_(opt_.threads),
      shards_(kShards) {
  opt_.posting.fresh_account_age = opt_.fresh_account_age;
  unit_suspicion_ = kUnitSuspicion / (1.0 + std::exp(-opt_.model.bias));
  batch_.reserve(opt_.batch_max);
}

Engine::~Engine() = default;

void Engine::SetRegistry(uint64_t account, const state::RegistryInfo& info) {
  // The shard's registry map holds only accounts not seen yet (or evicted): an account's first
  // event (or its restore) moves its entry into its state (one copy per account, not two).
  Shard& shard = shards_[ShardOf(account)];
  auto it = shard.by_account.find(account);
  if (it != shard.by_account.end() && shard.states.loaded(it->second)) {
    shard.states[it->second].registry = info;
  } else {
    shard.registry[account] = info;
  }
}

std::vector<std::pair<uint64_t, uint64_t>> Engine::SilentRegisteredByPayment() const {
  // A shard's registry map also holds evicted accounts' entries; those have been seen.
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const Shard& shard : shards_) {
    for (const auto& [account, info] : shard.registry) {
      if (info.payment && !shard.by_account.contains(account))
        out.emplace_back(account, info.payment);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Engine::Push(const EventRecord& r) {
  const int64_t epoch = r.ts / opt_.epoch;
  if (events_ == 0) first_ts_ = r.ts;
  if (epoch > epoch_) {
    // The barrier belongs to the epoch boundary, not to the batch: it runs even when a full
    // batch or a Flush() already processed every event of the finished epoch.
    if (epoch_ != INT64_MIN) {
      if (!batch_.empty()) ProcessBatch();
      Barrier();
    }
    epoch_ = epoch;
  } else if (r.ts < max_ts_) {
    ++late_;
  }
  max_ts_ = std::max(max_ts_, r.ts);
  last_ts_ = max_ts_;
  ++events_;
  batch_.push_back(r);
  if (observer_) observer_->OnEvent(r);
  // A full batch is processed without a barrier: barriers only fall on epoch boundaries.
  if (batch_.size() >= opt_.batch_max) ProcessBatch();
}

void Engine::Finish() {
  if (!batch_.empty()) ProcessBatch();
  Barrier(/*final=*/true);
}

void Engine::Flush() {
  if (!batch_.empty()) ProcessBatch();
}

const UnitTracker* Engine::EndUsersOf(uint64_t account_hash) const {
  const Shard& shard = shards_[ShardOf(account_hash)];
  auto it = shard.by_account.find(account_hash);
  if (it == shard.by_account.end()) return nullptr;
  auto t = shard.tenants.find(it->second);
  return t == shard.tenants.end() ? nullptr : t->second.get();
}

const UnitTracker* Engine::KeysOf(uint64_t account_hash) const {
  const Shard& shard = shards_[ShardOf(account_hash)];
  auto it = shard.by_account.find(account_hash);
  if (it == shard.by_account.end()) return nullptr;
  auto t = shard.keyed.find(it->second);
  return t == shard.keyed.end() ? nullptr : t->second.get();
}

const AccountState* Engine::FindAccount(uint64_t account_hash) const {
  const Shard& shard = shards_[ShardOf(account_hash)];
  auto it = shard.by_account.find(account_hash);
  return it == shard.by_account.end() ? nullptr : shard.states.get(it->second);
}

void Engine::EmitFlags() {
  if (!observer_) {
    for (auto& shard : shards_) shard.flagged.clear();
    cluster_flags_.clear();
    return;
  }
  std::vector<std::tuple<TimeUs, uint64_t, const AccountState*>> events;
  for (auto& shard : shards_) {
    for (auto [ts, pos] : shard.flagged)
      events.emplace_back(ts, shard.states[pos].account, &shard.states[pos]);
    shard.flagged.clear();
  }
  std::sort(events.begin(), events.end());
  for (auto& [ts, account, state] : events)
    observer_->OnAccountFlagged(*state, ts, state->verdict.flagged_by_cluster);
  for (auto& [ts, state] : cluster_flags_) observer_->OnAccountFlagged(*state, ts, true);
  cluster_flags_.clear();
}

void Engine::ProcessBatch() {
  if (evict_) RestoreBatch();
  const size_t t = static_cast<size_t>(pool_.threads());
  if (t == 1) {
    for (const auto& r : batch_) ProcessEvent(shards_[ShardOf(r.account)], r);
  } else {
    pool_.Run(t, [&](size_t worker) {
      for (const auto& r : batch_) {
        const size_t s = ShardOf(r.account);
        if (s % t == worker) ProcessEvent(shards_[s], r);
      }
    });
  }
  batch_.clear();
  EmitFlags();
}

// Prompts of its own through a flagged cluster's template with which a member (or the holder of a
// flagged campaign's card) joins its verdict, and the share of the cluster's prompts that makes an
// opening its template. One is enough: the exact template is the campaign's script, and the
// account is already tied to the campaign by a link or a card.
constexpr uint32_t kJoinPrompts = 1;
constexpr double kJoinTemplateShare = 0.3;

// A cluster's template for joining: its dominant opening, if it carries kJoinTemplateShare of the
// cluster's prompts; 0 otherwise.
static uint64_t JoinTemplate(const AccountState& combined) {
  const auto& tmpl = combined.prefixes;
  return tmpl.TopShare() >= kJoinTemplateShare ? tmpl.Top().key : 0;
}

void Engine::ProcessEvent(Shard& shard, const EventRecord& r) {
  auto [it, inserted] = shard.by_account.try_emplace(r.account, 0);
  if (inserted) {
    it->second = static_cast<uint32_t>(shard.states.size());
    shard.states.emplace_back();
    shard.slots.emplace_back();
    AccountState& s = shard.states.back();
    s.account = r.account;
    if (auto reg = shard.registry.find(r.account); reg != shard.registry.end()) {
      s.registry = reg->second;
      shard.registry.erase(reg);
    }
    if (auto j = flagged_payments_.find(s.registry.payment);
        s.registry.payment && j != flagged_payments_.end()) {
      s.verdict.join_prefix = j->second.prefix;
      s.verdict.join_score = j->second.score;
    }
    shard.created.push_back({r.seq, it->second});
  }
  const uint32_t pos = it->second;
  AccountState& s = shard.states[pos];
  Slot& slot = shard.slots[pos];
  if (!slot.touched) {
    slot.touched = true;
    shard.touched.push_back(pos);
  }
  // Until its second key, an account's traffic is its first key's: the key tracker opens with
  // that key holding the account's state and verdict so far (SeedFirstKey). One lookup serves
  // the tracker below too (nothing else inserts into shard.keyed meanwhile).
  auto keys = r.api_key ? shard.keyed.find(pos) : shard.keyed.end();
  if (keys == shard.keyed.end() && r.api_key && s.first_api_key && r.api_key != s.first_api_key) {
    keys = shard.keyed.emplace(pos, SeedFirstKey(s)).first;
  }
  s.Update(r);
  if (opt_.checkpoint) [[unlikely]] {
    const uint64_t n = s.requests;
    if (n == 3 || (n >= 4 && (n & (n - 1)) == 0)) opt_.checkpoint(s);
  }
  // End users are judged on their own from the point where the account's own prompt style stops
  // judging it (detectors' AppAsAWhole): what the account relays is still looked at. They are
  // tracked from the account's second end user on, so that one who came to a young app first is
  // judged on all it sent since, not only on what it sent once the app had a few more users.
  if (r.end_user && s.EndUsers() >= state::kTrackEndUsers) {
    auto& tracker = shard.tenants[pos];
    if (!tracker) tracker = std::make_unique<UnitTracker>();
    TrackUnit(*tracker, r.end_user, s, r, s.EndUsers() >= state::kRelayEndUsers);
  }
  // Keys are judged on their own from the account's second key on.
  bool may_flag = true;
  if (r.api_key) {
    if (!s.first_api_key) s.first_api_key = r.api_key;
    if (keys != shard.keyed.end()) {
      TrackUnit(*keys->second, r.api_key, s, r);
      may_flag = !DefersToKeys(*keys->second);
      if (!may_flag && s.verdict.flagged) RescopeToKeys(s, *keys->second);
    }
  }
  bool newly_flagged = false;
  ScoreState(s, s.verdict, r.ts, &newly_flagged, nullptr, nullptr, may_flag);
  // A member of a flagged cluster joins its verdict at the request that carries what the cluster
  // is flagged for (MemberJoinsVerdict's template test), without waiting for the next barrier.
  auto& v = s.verdict;
  if (!v.flagged && may_flag && v.join_prefix &&
      s.prefixes.Guaranteed(v.join_prefix) >= kJoinPrompts) {
    v.flagged = true;
    v.flagged_by_cluster = true;
    v.first_flagged_at = r.ts;
    v.peak_score = std::max(v.peak_score, v.join_score);
    v.level = std::max(v.level, scorer_.LevelOf(v.join_score));
    newly_flagged = true;
  }
  if (newly_flagged) shard.flagged.push_back({r.ts, pos});
}

std::unique_ptr<UnitTracker> Engine::SeedFirstKey(const AccountState& s) {
  // A key that extracted alone for hours before the company's other keys came is judged, and
  // contained, from when the account was: the account is rescoped to it (RescopeToKeys) with
  // its flag time, rather than the key starting afresh at the second key and taking hundreds
  // of answers more before it is flagged on its own. A verdict the account owes to its cluster
  // or to a known indicator is not the key's own and stays with the account.
  auto keys = std::make_unique<UnitTracker>();
  const auto n = static_cast<uint32_t>(std::min<uint64_t>(s.requests, UINT32_MAX));
  if (n == 0) return keys;
  keys->counts.Add(s.first_api_key, n);
  if (n < UnitTracker::kPromote) return keys;
  auto& slot = keys->slots.emplace_back();
  slot.unit = s.first_api_key;
  slot.seen = n;
  slot.state = s;
  slot.state.account = s.first_api_key;
  slot.state.registry = {};
  if (s.verdict.flagged_by_cluster || s.verdict.flagged_by_indicator) {
    slot.state.verdict = state::Verdict{};
  }
  return keys;
}

void Engine::RescopeToKeys(AccountState& s, const UnitTracker& keys) const {
  // Only the account's own verdict is rescoped: a cluster's or a known indicator's stands.
  if (s.verdict.flagged_by_cluster || s.verdict.flagged_by_indicator) return;
  bool key_flagged = false;
  for (const auto& sl : keys.slots) key_flagged |= sl.state.verdict.flagged;
  if (!key_flagged) return;
  s.verdict.flagged = false;
  s.verdict.first_flagged_at = -1;
  s.verdict.level = std::min<uint8_t>(s.verdict.level, scorer_.model().flag_level - 1);
  s.verdict.peak_score = std::min(s.verdict.peak_score, BelowFlag());
}

float Engine::BelowFlag() const {
  const auto flag = static_cast<scoring::Level>(opt_.model.flag_level);
  // One unit of the report's fourth decimal below: it reads as below the line, not rounded to it.
  return static_cast<float>(opt_.model.Threshold(flag) - 1e-4);
}

bool Engine::DefersToKeys(const UnitTracker& keys) const {
  uint32_t in_use = 0, flagged = 0;
  bool clean = false;
  for (const auto& e : keys.counts.entries()) in_use += e.count >= kKeyActiveRequests;
  for (const auto& sl : keys.slots) {
    flagged += sl.state.verdict.flagged;
    clean |= !sl.state.verdict.flagged && sl.state.requests >= kKeyCleanRequests &&
             !scorer_.FlagsEndUser(sl.state.verdict.peak_score);
  }
  if (in_use < 2 || flagged >= 2) return false;
  return clean || keys.counts.TopShare() >= kKeyDominantShare;
}

void Engine::ScoreState(const AccountState& s, state::Verdict& v, TimeUs ts, bool* newly_flagged,
                        const AccountState* host,
                        std::array<uint8_t, state::kMaxDetectors>* strengths_out, bool may_flag) {
  if (s.requests < opt_.min_requests_to_score) return;
  std::array<uint8_t, state::kMaxDetectors> local;
  auto& strengths = strengths_out ? *strengths_out : local;
  const double score = scorer_.Score({s, peers_, host}, &strengths, v.cluster_harvest / 255.0);
  // While an account defers to its keys its level, and the score it is ranked by, stay below the
  // ones the policy acts on: what flags is its keys' (the report's `flagged_api_keys`), and a
  // company whose leaked key is contained does not rank above the campaigns. Its evidence still
  // shows what its traffic holds.
  v.score = may_flag ? static_cast<float>(score) : std::min(static_cast<float>(score), BelowFlag());
  const uint8_t level =
      may_flag ? scorer_.LevelOf(score)
               : std::min<uint8_t>(scorer_.LevelOf(score), scorer_.model().flag_level - 1);
  if (v.score > v.peak_score || (!may_flag && v.score == v.peak_score)) {
    v.peak_score = v.score;
    v.peak_strength = strengths;
    v.level = level;
  }
  const bool flags = host ? scorer_.FlagsEndUser(score) : scorer_.Flags(score);
  if (!v.flagged && flags && may_flag) {
    v.flagged = true;
    v.first_flagged_at = ts;
    v.level = std::max(v.level, level);
    *newly_flagged = true;
  }
}

void Engine::TrackUnit(UnitTracker& tracker, uint64_t unit, const AccountState& host,
                       const EventRecord& r, bool may_flag) {
  tracker.counts.Add(unit);
  const uint32_t guaranteed = tracker.counts.Guaranteed(unit);
  // The slot a newly promoted unit may take (see UnitTracker): the lightest one seen less often
  // than the newcomer, never a flagged unit's, and not a suspected unit's while suspects hold at
  // most half the slots.
  UnitTracker::Slot* slot = nullptr;
  size_t suspects = 0;
  for (auto& sl : tracker.slots) {
    if (sl.unit == unit) {
      slot = &sl;
      break;
    }
    suspects += !sl.state.verdict.flagged && sl.state.verdict.peak_score >= unit_suspicion_;
  }
  if (!slot) {
    if (guaranteed < UnitTracker::kPromote) return;
    if (tracker.slots.size() < UnitTracker::kSlots) {
      slot = &tracker.slots.emplace_back();
    } else {
      const bool spare_suspects = suspects <= UnitTracker::kSlots / 2;
      UnitTracker::Slot* lightest = nullptr;
      for (auto& sl : tracker.slots) {
        if (sl.state.verdict.flagged) continue;
        if (spare_suspects && sl.state.verdict.peak_score >= unit_suspicion_) continue;
        if (!lightest || sl.seen < lightest->seen) lightest = &sl;
      }
      if (!lightest || lightest->seen >= guaranteed) return;
      slot = lightest;
    }
    slot->unit = unit;
    slot->state = AccountState{};
    slot->state.account = unit;
  }
  slot->seen = guaranteed;
  slot->state.Update(r);
  bool newly = false;
  ScoreState(slot->state, slot->state.verdict, r.ts, &newly, &host, nullptr, may_flag);
}

void Engine::Barrier(bool final) {
  // 1. Give accounts created this epoch their linker index, in first-event order.
  std::vector<std::tuple<uint64_t, uint32_t, uint32_t>> created;
  for (uint32_t si = 0; si < kShards; ++si) {
    for (auto [seq, pos] : shards_[si].created) created.emplace_back(seq, si, pos);
    shards_[si].created.clear();
  }
  std::sort(created.begin(), created.end());
  for (auto [seq, si, pos] : created) {
    const uint32_t idx = linker_.AddAccount();
    shards_[si].slots[pos].index = idx;
    directory_.push_back({si, pos});
  }

  // 2. Accounts touched this epoch, in index order.
  std::vector<uint32_t> touched;
  for (auto& shard : shards_) {
    for (uint32_t pos : shard.touched) {
      shard.slots[pos].touched = false;
      touched.push_back(shard.slots[pos].index);
    }
    shard.touched.clear();
  }
  std::sort(touched.begin(), touched.end());

  // 3. Peer baselines.
  for (uint32_t idx : touched) {
    auto [si, pos] = directory_[idx];
    AccountState& s = shards_[si].states[pos];
    if (s.requests < opt_.min_requests_for_peers) continue;
    const int16_t b = static_cast<int16_t>(state::LogHistogram::Bucket(s.OutputPerDay()));
    if (b != s.peer_bucket) {
      if (s.peer_bucket >= 0) peer_hist_.Add(s.peer_bucket, -1);
      peer_hist_.Add(b, 1);
      s.peer_bucket = b;
    }
  }
  peers_.peers = peer_hist_.total();
  peers_.median_output_per_day = peer_hist_.Quantile(0.5);
  peers_.p90_output_per_day = peer_hist_.Quantile(0.9);

  // 4. Known indicators, then linking: post each touched account's indicators.
  if (opt_.indicators && !opt_.indicators->empty()) {
    for (uint32_t idx : touched) {
      auto [si, pos] = directory_[idx];
      MatchKnownIndicators(shards_[si].states[pos]);
    }
  }
  // Indicators rarely change between epochs and posting a value again is a no-op, so an
  // account's posts go to the linker only when their signature (31 bits in its slot) changed. A
  // flagged account posts its suspects-only kinds again, now linking (see LinkerOptions).
  for (uint32_t idx : touched) {
    auto [si, pos] = directory_[idx];
    const AccountState& s = shards_[si].states[pos];
    const linking::Posts posts = linking::CollectPosts(s, opt_.posting);
    const bool suspect = s.verdict.flagged;
    const uint32_t sig31 = linking::PostSignature(posts, suspect);
    Slot& slot = shards_[si].slots[pos];
    if (slot.posted == sig31) continue;
    slot.posted = sig31;
    for (const auto& [kind, value] : posts) linker_.Post(idx, kind, value, suspect);
  }

  // 5. Cluster verdicts for clusters that merged or whose members moved.
  std::vector<uint32_t> merged = linker_.TakeMergedRoots();
  std::vector<uint32_t> roots = merged;
  for (uint32_t idx : touched) {
    if (linker_.ClusterSize(idx) > 1) roots.push_back(linker_.Find(idx));
  }
  // The last barrier rebuilds every cluster whose combined state is older than the end of the
  // input, so the report's cluster figures hold all of its members' traffic.
  if (final) {
    for (const auto& [root, cv] : clusters_) {
      if (cv.combined_at < max_ts_) roots.push_back(root);
    }
  }
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  if (final) merged = roots;
  ScoreClusters(roots, merged);
  EmitFlags();
  if (evict_) EvictIdle();
  if (observer_) observer_->OnBarrier(max_ts_);
}

void Engine::MatchKnownIndicators(AccountState& s) {
  auto& v = s.verdict;
  if (v.known_indicator) return;
  const auto& list = *opt_.indicators;
  using linking::KnownKind;
  uint32_t m = list.MatchHash(KnownKind::kAccountId, s.account);
  if (!m) m = list.MatchHash(KnownKind::kPaymentFingerprint, s.registry.payment);
  for (const auto& e : s.fingerprints.entries()) {
    if (!m && e.count) m = list.MatchHash(KnownKind::kClientFingerprint, e.key);
  }
  if (!m) m = list.MatchHash(KnownKind::kEmailDomain, s.registry.email_domain);
  for (const auto& e : s.agents.entries()) {
    if (!m && e.count) m = list.MatchHash(KnownKind::kUserAgent, e.key);
  }
  for (const auto& e : s.ip_prefixes.entries()) {
    if (!m && e.count) m = list.MatchPrefix(names_.Get(NameKind::kIpPrefix, e.key));
  }
  if (!m) return;
  v.known_indicator = m;
  if (!linking::Identifying(list.at(m - 1).kind) || v.flagged) return;
  v.flagged = true;
  v.flagged_by_indicator = true;
  v.first_flagged_at = max_ts_;
  v.peak_score = std::max(v.peak_score, static_cast<float>(opt_.model.Threshold(scoring::kHigh)));
  v.level = std::max<uint8_t>(v.level, scoring::kHigh);
  cluster_flags_.push_back({max_ts_, &s});
}

bool Engine::HasOwnHarvest(const AccountState& m) const {
  return m.verdict.peak_score >= opt_.model.Threshold(scoring::kLow) &&
         scorer_.StrongestHarvest(m.verdict.peak_strength) >= opt_.model.gate_low;
}

bool Engine::MemberJoinsVerdict(const AccountState& m, uint64_t join_prefix) const {
  // Linking alone never condemns: a member is flagged with its cluster only if it takes
  // something itself (harvest evidence of its own past the gate, and a `low` score), or carries
  // what the cluster takes (its dominant prompt template). How a client behaves (rotating the
  // agents most members rotate, or hopping networks, which the cluster's harvest counts for the
  // member) is shared by legitimate users too: companies whose developers use the same SDK
  // versions, a team sharing one key (JoinTest.AccountsSharingOnlyACampaignsAgentSet...).
  if (HasOwnHarvest(m)) return true;
  // One prompt of its own through the cluster's template is enough (kJoinPrompts): waiting for
  // more let every fresh member of a flagged campaign take its first answers.
  return join_prefix && m.prefixes.Guaranteed(join_prefix) >= kJoinPrompts;
}

// A quiet member reads its harvest on its cluster's sample from this many requests, and takes
// what the cluster is flagged for when a harvest detector shows this strength both in the
// cluster and, by the member's shares, in the member.
constexpr uint64_t kLentJoinRequests = 3;
constexpr double kSharedHarvest = 0.5;

bool Engine::MemberSharesClusterHarvest(uint32_t index, const AccountState& m,
                                        const state::Verdict& cluster) const {
  // Support ramps exist because a few requests' shares are chance. A member tied to a flagged
  // cluster by identity (a card, a network, a client stack, a system prompt or a template that
  // few others hold: one operator) is read against its cluster's sample instead, so a fresh
  // account of a flagged campaign joins after a few requests that do what the campaign does,
  // not after the dozens its own support asks for. Behaviour does not tie (linking::Behaviour):
  // companies on the same SDK versions rotate one agent set
  // (JoinTest.AccountsSharingOnlyACampaignsAgentSet...).
  const LentReading r = ReadOnClusterSample(index, m, cluster, /*first_only=*/true);
  return r.shared && r.tie >= opt_.linker.link_threshold;
}

Engine::LentReading Engine::ReadOnClusterSample(uint32_t index, const AccountState& m,
                                                const state::Verdict& cluster,
                                                bool first_only) const {
  LentReading r;
  if (m.requests < kLentJoinRequests) return r;
  detectors::DetectorInput lent{m, peers_};
  lent.lent_support = true;
  r.shared = scorer_.SharedHarvest(lent, cluster.peak_strength, kSharedHarvest, kSharedHarvest,
                                   first_only);
  if (!r.shared) return r;
  const linking::Posts posts = linking::CollectPosts(m, opt_.posting);
  r.tie = linker_.IdentityTie(index, {posts.begin(), posts.end()});
  return r;
}

std::string Engine::JoinReason(uint32_t index, const AccountState& s) const {
  const ClusterVerdict* cv = Cluster(ClusterOf(index));
  std::vector<std::string> why;
  if (cv) {
    if (const uint64_t tmpl = JoinTemplate(cv->combined); tmpl) {
      if (const uint32_t n = s.prefixes.Guaranteed(tmpl); n >= kJoinPrompts) {
        why.push_back(fmt::format("it sent {} prompt{} through the cluster's dominant template", n,
                                  n == 1 ? "" : "s"));
      }
    }
    if (HasOwnHarvest(s)) why.push_back("it shows harvest evidence of its own");
    if (const LentReading r = ReadOnClusterSample(index, s, cv->verdict, /*first_only=*/false);
        r.shared && r.tie >= opt_.linker.link_threshold) {
      std::string names;
      for (size_t i = 0; i < scorer_.detectors().size() && i < 64; ++i) {
        if (!(r.shared >> i & 1)) continue;
        if (!names.empty()) names += ", ";
        names += scorer_.detectors()[i]->name();
      }
      why.push_back(fmt::format(
          "it is tied to another member by identity (card, network, client or prompt values "
          "few others hold; weight {:.2f}) and its own {} requests show what the cluster is "
          "flagged for ({})",
          r.tie, s.requests, names));
    }
  }
  if (why.empty() && s.registry.payment && flagged_payments_.contains(s.registry.payment)) {
    why.push_back("it pays with the card of a flagged cluster's member");
  }
  std::string out;
  for (const auto& w : why) out += (out.empty() ? "" : "; ") + w;
  return out;
}

void Engine::ScoreClusters(const std::vector<uint32_t>& roots,
                           const std::vector<uint32_t>& merged) {
  if (evict_) RestoreMembers(roots);
  for (uint32_t root : roots) {
    const auto& members = linker_.Members(root);
    if (members.size() < 2) continue;
    ClusterVerdict& cv = clusters_[root];
    auto& v = cv.verdict;
    const bool changed =
        cv.combined_at < 0 || std::binary_search(merged.begin(), merged.end(), root);
    if (changed || max_ts_ - cv.combined_at >= opt_.cluster_rescore) {
      cv.combined = AccountState{};
      cv.combined.members = 0;
      const TimeUs new_after =
          opt_.undated_new_after >= 0 ? first_ts_ + opt_.undated_new_after : TimeUs{-1};
      for (uint32_t m : members) {
        auto [si, pos] = directory_[m];
        cv.combined.Combine(shards_[si].states[pos], opt_.fresh_account_age, new_after);
      }
      cv.combined_at = max_ts_;
      // Drop verdicts of roots absorbed into this one.
      for (uint32_t m : members) {
        if (m != root) clusters_.erase(m);
      }
      bool newly = false;
      std::array<uint8_t, state::kMaxDetectors> strengths{};
      ScoreState(cv.combined, v, max_ts_, &newly, nullptr, &strengths);
      // Harvest evidence the cluster shows opens its members' gates (Scorer::Score).
      const auto harvest =
          static_cast<uint8_t>(std::lround(scorer_.StrongestHarvest(strengths) * 255.0));
      for (uint32_t m : members) {
        auto [si, pos] = directory_[m];
        shards_[si].states[pos].verdict.cluster_harvest = harvest;
      }
    }
    if (!v.flagged) continue;
    const uint64_t join_prefix = JoinTemplate(cv.combined);
    for (uint32_t m : members) {
      auto [si, pos] = directory_[m];
      AccountState& s = shards_[si].states[pos];
      if (join_prefix && s.registry.payment) {
        flagged_payments_[s.registry.payment] = {join_prefix, v.peak_score};
      }
      if (s.verdict.flagged) continue;
      // An account judged key by key is contained by its flagged keys, not flagged whole.
      if (auto k = shards_[si].keyed.find(pos);
          k != shards_[si].keyed.end() && DefersToKeys(*k->second)) {
        s.verdict.join_prefix = 0;
        continue;
      }
      if (!MemberJoinsVerdict(s, join_prefix) && !MemberSharesClusterHarvest(m, s, v)) {
        s.verdict.join_prefix = join_prefix;
        s.verdict.join_score = v.peak_score;
        continue;
      }
      s.verdict.flagged = true;
      s.verdict.flagged_by_cluster = true;
      s.verdict.first_flagged_at = max_ts_;
      s.verdict.peak_score = std::max(s.verdict.peak_score, v.peak_score);
      s.verdict.level = std::max(s.verdict.level, v.level);
      cluster_flags_.emplace_back(max_ts_, &s);
    }
  }
}

std::vector<Engine::AccountRef> Engine::Accounts() const {
  std::vector<AccountRef> out;
  out.reserve(directory_.size());
  for (uint32_t i = 0; i < directory_.size(); ++i) {
    auto [si, pos] = directory_[i];
    out.push_back({shards_[si].states.get(pos), i});
  }
  return out;
}

const AccountState& Engine::AccountAt(uint32_t index) const {
  auto [si, pos] = directory_[index];
  return shards_[si].states[pos];
}

const ClusterVerdict* Engine::Cluster(uint32_t root) const {
  auto it = clusters_.find(root);
  return it == clusters_.end() ? nullptr : &it->second;
}

}  // namespace dg::engine
