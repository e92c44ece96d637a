// Linker: attributes accounts to the operators behind them.
//
// Accounts post indicator values (payment instrument, email domain, /24 or /48 network, client
// stack = TLS fingerprint + user agent, system prompt, prompt template). Two accounts that share
// values accumulate a pair weight: each shared value adds kind_weight x rarity, where rarity
// falls with the number of accounts holding the value, and a value held by more than
// max_postings accounts links nothing more (a cloud subnet, a common SDK, gmail.com). When a
// pair's weight reaches the threshold, their clusters are merged (union-find), unless the merged
// cluster would exceed max_cluster (giant-component guard; refusals are counted).
//
// The linker is fed only at the engine's batch barrier, in a deterministic order, so clusters do
// not depend on threads or batch sizes. Memory is bounded by max_postings per value and by the
// pair table cap.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/binary_io.h"

namespace dg::linking {

enum IndicatorKind : uint8_t {
  kPayment = 0,
  kEmailDomain,
  kIpPrefix,
  kClientStack,
  kSystemPrompt,
  kTemplate,
  kFreshTemplate,   // prompt template of an account first seen within days of its creation
  kTemplateParams,  // prompt template + the request-parameter signature of the client
  kAsn,             // the autonomous system most of an account's requests come from
  kAgentSet,        // the set of user agents a client rotates through (3 or more)
  kParamProfile,    // the client's parameter habits (what it always / sometimes / never sets)
  kIndicatorKinds
};
std::string_view IndicatorName(IndicatorKind k);
// Behaviour, not identity: how a client acts (the agents it rotates, its parameter habits), which
// independent users of one tool share. Links through it do not tie a quiet member to a cluster's
// verdict (Linker::IdentityTie).
inline bool Behaviour(IndicatorKind k) { return k == kAgentSet || k == kParamProfile; }

// Per kind: weight of one shared value; rarity pivot (up to this many holders a value counts
// fully, beyond it its weight falls as sqrt(pivot / holders)); and the holder count beyond which
// the value links nothing more (the smaller of it and LinkerOptions::max_postings applies).
struct LinkerOptions {
  double link_threshold = 1.0;
  size_t max_postings = 100000;  // global ceiling over kind_max_postings
  uint32_t max_cluster = 2000;
  size_t max_pairs = 8'000'000;
  // An ASN is coarser than a /24 (a whole ISP or cloud). By default it links nothing (weight 0):
  // it is recorded for cluster evidence and export. With a weight it adds to other shared
  // values, but on the standard scenario 0.3 merged two companies on one ISP and tipped pairs of
  // hobbyists over the threshold, so it stays off until a deployment's data says otherwise.
  // An agent set is three or more distinct user agents rotated by one client: the rotation list
  // in an operator's script (or the part of it an account has drawn so far), but also the few
  // SDK versions a company's developers use side by side. It is behaviour, so it links flagged
  // accounts only (see suspects_only), where it makes one case of a script's accounts.
  // A parameter profile is behaviour, not infrastructure: a script's habits (always n > 1 at
  // temperature >= 0.9, never a system prompt; or logprobs, max_tokens = 1 and a seed on every
  // request) are shared by the accounts it drives, while people and SDK defaults fall into
  // common profiles that fade with their holders. It links flagged accounts only (see
  // suspects_only), where a rare profile alone makes one case of them. No prevalence cap: a
  // profile is posted after tens of requests, and the pair weight is settled at the second
  // suspect's post, when too few profiles may be known to judge a share (a 3% cap split a
  // six-account campaign five to one). Among flagged accounts a common profile early merges two
  // cases at worst.
  //                                         pay   email  ip    stack sys   tmpl  fresh  params asn
  //                                         agents profile
  std::array<double, kIndicatorKinds> kind_weight = {1.0, 0.35, 0.45, 0.45, 0.5, 0.5,
                                                     1.0, 0.6,  0.0,  1.0,  1.0};
  std::array<double, kIndicatorKinds> rarity_pivot = {20, 3, 8, 5, 10, 10, 400, 50, 5, 50, 8};
  std::array<size_t, kIndicatorKinds> kind_max_postings = {200,  200,  200, 200, 500, 500,
                                                           2000, 1000, 60,  200, 200};
  // Prevalence: the share of the accounts that posted a kind which hold the value. A count says
  // little early in a stream (the 5th holder of "You are a helpful assistant." in the first
  // hour counted fully, though it ends with hundreds): for kinds that are not identifying, a value
  // held by more than share_pivot of the posters (at least prevalence_floor of them) weighs
  // sqrt(share_pivot / share) at most. 0 = off (payment, network, templates, agent sets: their
  // holders are counted against fixed pivots only).
  std::array<double, kIndicatorKinds> share_pivot = {0, 0.01, 0, 0.01, 0.01, 0, 0, 0, 0, 0, 0};
  uint32_t prevalence_floor = 100;
  // Kinds that link only accounts already flagged (on their own evidence or with their cluster;
  // account indices must stay below 2^31, the top bit marks quiet holders): the behaviour kinds
  // (linking::Behaviour). Behaviour is not an identity: independent users of one tool or one
  // workflow share a parameter profile (eval harnesses, batch jobs), companies on the same SDK
  // versions share an agent set, so neither links an unflagged account, and neither condemns
  // anyone. Between flagged accounts a rare shared profile or agent set makes one case of one
  // script's accounts where no infrastructure is shared. Every holder still counts for rarity.
  std::array<bool, kIndicatorKinds> suspects_only = {false, false, false, false, false, false,
                                                     false, false, false, true,  true};
};

class Linker {
 public:
  explicit Linker(const LinkerOptions& options = {}) : opt_(options) {}
  // Registers an account; returns its index (dense, in registration order).
  uint32_t AddAccount();
  // Records that account `a` holds `value` of kind `kind` (idempotent per account and value).
  // Its weight with each earlier holder: kind_weight x the smaller of the count rarity and the
  // prevalence rarity (see LinkerOptions).
  // `suspect`: the account is already flagged. A kind marked suspects_only
  // counts every holder but links only suspects (see LinkerOptions).
  void Post(uint32_t a, IndicatorKind kind, uint64_t value, bool suspect = false);
  uint32_t Find(uint32_t a) const;
  uint32_t ClusterSize(uint32_t a) const { return size_[Find(a)]; }
  // Roots of clusters that merged since the last call (sorted, unique).
  std::vector<uint32_t> TakeMergedRoots();
  // Members of the cluster whose root is `root` (ascending account index).
  // A singleton's list is not stored (one vector per account cost ~56 bytes at millions of
  // accounts); its one member is read from parent_, where a root points at itself.
  std::span<const uint32_t> Members(uint32_t root) const {
    if (!members_[root].empty()) return members_[root];
    if (parent_[root] == root) return {&parent_[root], 1};
    return {};
  }
  // How strongly `a` is tied by identity to another member of its cluster: the largest summed
  // weight, over the other members, of the non-behaviour values among `values` (what `a` posts)
  // that both hold, each weighed at today's holder count (later holders included). A value too
  // common to link counts nothing. Cost: the holder lists of `a`'s values.
  double IdentityTie(uint32_t a, std::span<const std::pair<IndicatorKind, uint64_t>> values) const;
  uint64_t refused_merges() const { return refused_; }
  // Memory accounting: pair weights kept, account ids held in posting lists, distinct values.
  size_t pairs() const { return pair_weight_.size(); }
  size_t posting_entries() const;
  size_t values() const { return postings_.size(); }
  size_t accounts() const { return parent_.size(); }

  // Field-wise encoding of the whole linker for engine snapshots: union-find, member lists,
  // postings and pair weights in key order (equal linkers give equal bytes), the merge log and
  // counters. Load replaces the linker's state (options stay) and returns false with *error on
  // truncated or inconsistent input, leaving the linker unspecified.
  void Save(Writer& w) const;
  bool Load(Reader& r, std::string* error);

  struct SharedValue {
    IndicatorKind kind;
    uint64_t value;
    uint32_t holders;          // accounts holding it (all, capped at max_postings + 1)
    std::vector<uint32_t> in;  // members of the asked cluster holding it
  };
  // The indicator values that members of `root`'s cluster share with each other (one pass over
  // all postings: for many clusters, call SharedByAll once).
  std::vector<SharedValue> SharedBy(uint32_t root) const;
  // SharedBy() of every cluster at once, by root, in one pass over the postings (a report over
  // many clusters; asking each cluster alone costs a pass over all postings per cluster).
  std::unordered_map<uint32_t, std::vector<SharedValue>> SharedByAll() const;

 private:
  struct Posting {
    std::vector<uint32_t> accounts;
    uint64_t value = 0;
    uint32_t holders = 0;
    IndicatorKind kind = kPayment;
  };
  static constexpr uint32_t kQuiet = 0x80000000u;  // a holder that counts but does not link
  static uint64_t Key(IndicatorKind k, uint64_t v) {
    return (v ^ (static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ULL)) * 0xff51afd7ed558ccdULL;
  }
  void Union(uint32_t a, uint32_t b);
  // The pair weight one shared value of `kind` adds while `holders` accounts hold it.
  double ValueWeight(IndicatorKind kind, uint32_t holders) const;

  LinkerOptions opt_;
  mutable std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
  std::vector<std::vector<uint32_t>> members_;  // filled for roots of clusters of 2 or more
  std::unordered_map<uint64_t, Posting> postings_;
  std::unordered_map<uint64_t, float> pair_weight_;
  std::vector<uint16_t> kinds_posted_;               // per account: kinds it has posted (bits)
  std::array<uint32_t, kIndicatorKinds> posters_{};  // per kind: accounts that posted it
  std::vector<uint32_t> merged_;
  uint64_t refused_ = 0;
};

}  // namespace dg::linking
