// See linker.h.
#include "linking/linker.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace dg::linking {

std::string_view IndicatorName(IndicatorKind k) {
  static constexpr std::string_view kNames[] = {"payment_fingerprint",
                                                "email_domain",
                                                "ip_prefix",
                                                "client_stack",
                                                "system_prompt",
                                                "prompt_template",
                                                "fresh_account_template",
                                                "template_and_parameters",
                                                "asn",
                                                "user_agent_set",
                                                "parameter_profile"};
  return k < kIndicatorKinds ? kNames[k] : "unknown";
}

uint32_t Linker::AddAccount() {
  const auto id = static_cast<uint32_t>(parent_.size());
  parent_.push_back(id);
  size_.push_back(1);
  members_.emplace_back();  // a singleton's member list stays empty (implied), see Members()
  kinds_posted_.push_back(0);
  return id;
}

uint32_t Linker::Find(uint32_t a) const {
  while (parent_[a] != a) {
    parent_[a] = parent_[parent_[a]];
    a = parent_[a];
  }
  return a;
}

void Linker::Union(uint32_t a, uint32_t b) {
  uint32_t ra = Find(a), rb = Find(b);
  if (ra == rb) return;
  if (size_[ra] + size_[rb] > opt_.max_cluster) {
    ++refused_;
    return;
  }
  // Deterministic: the smaller index becomes the root.
  if (rb < ra) std::swap(ra, rb);
  parent_[rb] = ra;
  size_[ra] += size_[rb];
  auto& into = members_[ra];
  if (into.empty()) into.push_back(ra);
  if (members_[rb].empty()) {
    into.push_back(rb);
  } else {
    into.insert(into.end(), members_[rb].begin(), members_[rb].end());
  }
  std::sort(into.begin(), into.end());
  std::vector<uint32_t>().swap(members_[rb]);
  merged_.push_back(ra);
}

void Linker::Post(uint32_t a, IndicatorKind kind, uint64_t value, bool suspect) {
  if (value == 0) return;
  Posting& p = postings_[Key(kind, value)];
  p.kind = kind;
  p.value = value;
  if (std::find(p.accounts.begin(), p.accounts.end(), a) != p.accounts.end()) return;
  // A suspects-only kind counts every holder (its rarity is the population's) but links only
  // the holders that are suspects; a quiet holder sits in the list with kQuiet set.
  const bool links = suspect || !opt_.suspects_only[kind];
  auto quiet = std::find(p.accounts.begin(), p.accounts.end(), a | kQuiet);
  const bool counted = quiet != p.accounts.end();
  if (counted) {
    if (!links) return;
    p.accounts.erase(quiet);
  } else {
    ++p.holders;
  }
  const size_t cap = std::min(opt_.kind_max_postings[kind], opt_.max_postings);
  if (p.holders > cap) {
    // Too common to mean anything: stop linking through it and free its list.
    if (!p.accounts.empty()) std::vector<uint32_t>().swap(p.accounts);
    return;
  }
  const uint16_t bit = static_cast<uint16_t>(1u << kind);
  if (!(kinds_posted_[a] & bit)) {
    kinds_posted_[a] |= bit;
    ++posters_[kind];
  }
  if (!links) {
    p.accounts.push_back(a | kQuiet);
    return;
  }
  const auto w = static_cast<float>(ValueWeight(kind, p.holders));
  // A kind without weight is kept for evidence only: no pair entries.
  if (w > 0) {
    for (uint32_t b : p.accounts) {
      if (b & kQuiet) continue;
      const uint64_t key = (static_cast<uint64_t>(std::min(a, b)) << 32) | std::max(a, b);
      auto it = pair_weight_.find(key);
      if (it == pair_weight_.end()) {
        if (pair_weight_.size() >= opt_.max_pairs) continue;
        it = pair_weight_.emplace(key, 0.0f).first;
      }
      it->second += w;
      if (it->second >= opt_.link_threshold) Union(a, b);
    }
  }
  p.accounts.push_back(a);
}

double Linker::ValueWeight(IndicatorKind kind, uint32_t holders) const {
  const double df = std::max<double>(holders, 1);
  double rarity = std::min(1.0, std::sqrt(opt_.rarity_pivot[kind] / df));
  if (opt_.share_pivot[kind] > 0) {
    const double share = df / std::max<double>(posters_[kind], opt_.prevalence_floor);
    rarity = std::min(rarity, std::sqrt(opt_.share_pivot[kind] / share));
  }
  return opt_.kind_weight[kind] * rarity;
}

double Linker::IdentityTie(uint32_t a,
                           std::span<const std::pair<IndicatorKind, uint64_t>> values) const {
  const uint32_t root = Find(a);
  std::unordered_map<uint32_t, double> with;  // other member: summed weight
  for (const auto& [kind, value] : values) {
    if (Behaviour(kind) || opt_.suspects_only[kind]) continue;
    auto it = postings_.find(Key(kind, value));
    if (it == postings_.end() || it->second.value != value || it->second.kind != kind) continue;
    const Posting& p = it->second;
    const double w = ValueWeight(kind, p.holders);
    if (w <= 0 || std::find(p.accounts.begin(), p.accounts.end(), a) == p.accounts.end()) continue;
    for (uint32_t b : p.accounts) {
      if ((b & kQuiet) || b == a || Find(b) != root) continue;
      with[b] += w;
    }
  }
  double best = 0;
  for (const auto& [b, w] : with) best = std::max(best, w);
  return best;
}

size_t Linker::posting_entries() const {
  size_t n = 0;
  for (const auto& [key, p] : postings_) n += p.accounts.size();
  return n;
}

std::vector<uint32_t> Linker::TakeMergedRoots() {
  std::vector<uint32_t> roots;
  roots.reserve(merged_.size());
  for (uint32_t r : merged_) roots.push_back(Find(r));
  merged_.clear();
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  return roots;
}

namespace {
bool SharedOrder(const Linker::SharedValue& x, const Linker::SharedValue& y) {
  if (x.in.size() != y.in.size()) return x.in.size() > y.in.size();
  if (x.kind != y.kind) return x.kind < y.kind;
  return x.value < y.value;
}
}  // namespace

std::unordered_map<uint32_t, std::vector<Linker::SharedValue>> Linker::SharedByAll() const {
  std::unordered_map<uint32_t, std::vector<SharedValue>> out;
  std::vector<std::pair<uint32_t, uint32_t>> by_root;  // (root, account), in posting order
  for (const auto& [key, p] : postings_) {
    if (p.accounts.size() < 2) continue;
    by_root.clear();
    for (uint32_t a : p.accounts) {
      if (!(a & kQuiet)) by_root.emplace_back(Find(a), a);
    }
    std::stable_sort(by_root.begin(), by_root.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 0; i < by_root.size();) {
      size_t j = i;
      while (j < by_root.size() && by_root[j].first == by_root[i].first) ++j;
      if (j - i >= 2) {
        SharedValue sv{p.kind, p.value, p.holders, {}};
        for (size_t k = i; k < j; ++k) sv.in.push_back(by_root[k].second);
        out[by_root[i].first].push_back(std::move(sv));
      }
      i = j;
    }
  }
  for (auto& [root, v] : out) std::sort(v.begin(), v.end(), SharedOrder);
  return out;
}

std::vector<Linker::SharedValue> Linker::SharedBy(uint32_t root) const {
  auto all = SharedByAll();
  auto it = all.find(Find(root));
  return it == all.end() ? std::vector<SharedValue>() : std::move(it->second);
}

void Linker::Save(Writer& w) const {
  w.PodVec(parent_);
  w.PodVec(size_);
  w.Pod<uint64_t>(members_.size());
  for (const auto& m : members_) w.PodVec(m);
  w.Pod<uint64_t>(postings_.size());
  for (uint64_t key : SortedKeys(postings_)) {
    const Posting& p = postings_.at(key);
    w.Pod(key);
    w.PodVec(p.accounts);
    w.Pod(p.value);
    w.Pod(p.holders);
    w.Pod<uint8_t>(p.kind);
  }
  w.Pod<uint64_t>(pair_weight_.size());
  for (uint64_t key : SortedKeys(pair_weight_)) {
    w.Pod(key);
    w.Pod(pair_weight_.at(key));
  }
  w.PodVec(merged_);
  w.Pod(refused_);
  w.PodVec(kinds_posted_);
  for (uint32_t n : posters_) w.Pod(n);
}

bool Linker::Load(Reader& r, std::string* error) {
  auto fail = [&](const char* what) {
    if (error) *error = what;
    return r.Fail();
  };
  uint64_t n = 0;
  if (!r.PodVec(parent_) || !r.PodVec(size_)) return fail("truncated linker");
  if (!r.Count(n, sizeof(uint64_t))) return fail("truncated linker members");
  members_.assign(n, {});
  for (auto& m : members_) {
    if (!r.PodVec(m)) return fail("truncated linker members");
  }
  if (parent_.size() != size_.size() || members_.size() != parent_.size()) {
    return fail("inconsistent linker");
  }
  for (uint32_t p : parent_) {
    if (p >= parent_.size()) return fail("bad linker parent");
  }
  for (const auto& m : members_) {
    for (uint32_t a : m) {
      if (a >= parent_.size()) return fail("bad linker member");
    }
  }
  postings_.clear();
  if (!r.Count(n, 3 * sizeof(uint64_t))) return fail("truncated postings");
  postings_.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t key = 0;
    r.Pod(key);
    Posting& p = postings_[key];
    uint8_t kind = 0;
    r.PodVec(p.accounts);
    r.Pod(p.value);
    r.Pod(p.holders);
    r.Pod(kind);
    if (!r.ok() || kind >= kIndicatorKinds) return fail("bad posting");
    p.kind = static_cast<IndicatorKind>(kind);
  }
  pair_weight_.clear();
  if (!r.Count(n, sizeof(uint64_t) + sizeof(float))) return fail("truncated pair table");
  pair_weight_.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t key = 0;
    float weight = 0;
    r.Pod(key);
    r.Pod(weight);
    pair_weight_.emplace(key, weight);
  }
  if (!r.PodVec(merged_) || !r.Pod(refused_) || !r.PodVec(kinds_posted_)) {
    return fail("truncated linker");
  }
  for (uint32_t& p : posters_) r.Pod(p);
  if (!r.ok()) return fail("truncated linker");
  if (kinds_posted_.size() != parent_.size()) return fail("inconsistent linker");
  return true;
}

}  // namespace dg::linking
