// Detectors read an AccountState (an account's, or a cluster's combined state) and say how
// strongly it shows one kind of extraction behaviour, in [0, 1], and explain it with figures.
//
// Strength() is on the per-event path: O(1), no allocation. Explain() runs only when a report or
// an alert is written. A detector is immutable after construction and shared by all shards; the
// only cross-account input is PeerBaselines, a snapshot frozen at the last batch barrier so
// results do not depend on threads or batch sizes. New detectors implement this interface and
// are listed in detectors/registry.cc under a name the scoring model refers to.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/names.h"
#include "state/account_state.h"

namespace dg::detectors {

// Global, mergeable baselines, recomputed at each barrier.
// Evidence formatting shared by detectors and reports: "61%", "1.9M".
std::string Pct(double x);
std::string Tokens(double x);

struct PeerBaselines {
  double median_output_per_day = 0;  // over accounts with enough traffic
  double p90_output_per_day = 0;
  int64_t peers = 0;
};

struct DetectorInput {
  const state::AccountState& state;
  const PeerBaselines& peers;
  // For an end user of a multi-tenant account: the account (all its end users' traffic), the
  // population the end user is compared with. nullptr for accounts and clusters.
  const state::AccountState* host = nullptr;
  // For a member of a flagged cluster, read on its cluster's sample: harvest detectors' support
  // ramps count as full (SupportOf), so a member's few requests are judged by their shares alone
  // (Engine::MemberSharesClusterHarvest). Never set for an account's own score.
  bool lent_support = false;
  // With `host`: the unit is one of the host's API keys rather than an end user (explanations
  // name the population it stands against).
  bool host_by_key = false;
};

// What a piece of evidence says about an account. Distillation is the taking of outputs, so
// only *harvest* evidence (what is taken: output volume against peers, templated or
// coverage-shaped prompts, reasoning traces, extraction parameters, data-generation prompts) can
// flag; the other families describe how it is taken and raise the confidence of harvest
// evidence without ever flagging alone (scoring/scorer.h): *pace* (no sleep: a SaaS app runs all
// day too), *concealment* (agent and network rotation: phones, relays, VPNs and shared keys show
// some of it), *coordination* (accounts acting as one: companies have several accounts too).
// *Intent* is what the requester says the outputs are for (a stated training purpose): it says
// why, not how much, so it counts in proportion to the scale taken (output_volume) or to the
// strongest pace, concealment or coordination evidence: a student who says a few dozen answers
// go into a course project's dataset is not a campaign; the same words from a client rotating
// networks, or at a hundred times its peers' volume, are.
enum class Family : uint8_t { kHarvest = 0, kPace, kConcealment, kCoordination, kIntent };
inline constexpr size_t kFamilies = 5;
std::string_view FamilyName(Family f);

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string_view name() const = 0;
  virtual Family family() const = 0;
  virtual double Strength(const DetectorInput& in) const = 0;
  virtual std::string Explain(const DetectorInput& in, const core::NameTable& names) const = 0;
};

// All built-in detectors, in a fixed order.
std::vector<std::unique_ptr<Detector>> MakeBuiltinDetectors();

// Shared helpers.
inline double Clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }
// Linear ramp: 0 at or below lo, 1 at or above hi.
inline double Ramp(double x, double lo, double hi) { return Clamp01((x - lo) / (hi - lo)); }
// Confidence from sample size: 0 below min_n, 1 at full_n.
inline double Support(uint64_t n, double min_n = 10, double full_n = 50) {
  return Ramp(static_cast<double>(n), min_n, full_n);
}
// Support() of a harvest detector. Support also grows with what was taken: shares whose answers
// add up to kTakenFull output tokens (from kTakenLow) are worth acting on, however few the
// requests. A person reading the answers takes that much over days; a harvester with answers of
// thousands of tokens, in its first dozen requests. The bounds are absolute, not relative to the
// peers' median: most accounts are small, and a median-relative bound would judge a modest user of
// a small population on its first requests.
inline constexpr uint64_t kTakenMinRequests = 8;
inline constexpr double kTakenLow = 10000, kTakenFull = 40000;
// What a detector's share is a share of:
// - kPerRequest: a property each request has or lacks (a phrase, a parameter). Its share is
//   settled from kTakenMinRequests requests (eight of eight is at least 68% at 95% confidence),
//   and a flagged cluster lends its sample to a member (DetectorInput::lent_support).
// - kStructural: a property of the set of requests (a template: one wrapper around varying
//   content). It needs the detector's own minimum sample before what was taken counts, and a
//   cluster lends nothing: what a cluster takes through a template is that template (the
//   engine's template join), another template is someone else's.
enum class Sample : uint8_t { kPerRequest, kStructural };
// A client that draws its agent and its network independently for each request: three or more
// agents, none in 60% of requests, and a /24 that changes between requests minutes apart, in more
// combinations of agent and /24 than agents or /24s alone. That is a script behind a proxy pool;
// a phone on a carrier's NAT pool keeps its client, and people sharing one key each keep their own
// client on their own network (as many combinations as people). In [0, 1]: client_rotation's
// evidence for it, and what makes a harvest share worth acting on from kTakenMinRequests
// requests, as a large take does (SupportOf). Only an account's own traffic shows it: an end
// user reaches us through its host's servers, and a cluster's members have many clients anyway.
inline double ScriptedRotation(const state::AccountState& s) {
  if (s.members > 1 || !s.RotatesAgents(state::kRotationStartAgents) || s.prefix_pairs == 0) {
    return 0;
  }
  const double share = static_cast<double>(s.prefix_hops) / s.prefix_pairs;
  const double excess = static_cast<double>(s.combo_distinct) -
                        static_cast<double>(std::max(s.agent_distinct, s.prefix_distinct));
  return Ramp(share, 0.1, 0.3) * Ramp(s.prefix_hops, 0, 2) * Ramp(s.prefix_distinct, 1, 3) *
         Ramp(excess, 0, 1);
}
// People sharing one key: each keeps an own client on an own network, so the account's agents
// and /24s pair up (no more combinations of the two than either alone explains), on a few
// networks each seen again and again. A proxy pool hands out exits by the dozen, and a script
// drawing agent and network independently pairs them every way (ScriptedRotation). In [0, 1]:
// how far an account's spread of clients and its network hops read as people, not rotation.
// Two or more networks and ten requests a network before it counts at all; full from 30 a
// network and up to eight networks, none beyond twelve (the pairing filter counts exactly only
// a few). Only an account's own traffic: a cluster's members are judged each on its own.
inline double SharedByPeople(const state::AccountState& s) {
  if (s.members > 1 || s.agent_distinct == 0 || s.prefix_distinct < 2) return 0;
  const double nets = std::max(s.ip_prefix_hll.Estimate(), static_cast<double>(s.prefix_distinct));
  const double excess = static_cast<double>(s.combo_distinct) -
                        static_cast<double>(std::max(s.agent_distinct, s.prefix_distinct));
  const double reuse = static_cast<double>(s.requests) / nets;
  return (1.0 - Ramp(excess, 0, 1)) * (1.0 - Ramp(nets, 8, 12)) * Ramp(reuse, 10, 30);
}
inline double SupportOf(const DetectorInput& in, uint64_t n, double min_n, double full_n,
                        Sample sample = Sample::kPerRequest) {
  const bool per_request = sample == Sample::kPerRequest;
  if (in.lent_support && per_request) return 1.0;
  const double from = per_request ? static_cast<double>(kTakenMinRequests) : min_n;
  // A scripted client hiding behind many identities keeps each one's take small on purpose.
  const double scripted = in.host ? 0.0 : ScriptedRotation(in.state);
  const double taken =
      static_cast<double>(n) >= from
          ? std::max(Ramp(static_cast<double>(in.state.output_tokens), kTakenLow, kTakenFull),
                     scripted)
          : 0.0;
  return std::max(Support(n, min_n, full_n), taken);
}
// Lower end of the Wilson score interval (95%, z = 1.96) of a share k/n: what the share is at
// least, given how few requests were seen. 0 when n is 0.
inline double WilsonLower(double k, double n) {
  if (n <= 0) return 0;
  constexpr double z = 1.96, z2 = z * z;
  const double p = k / n;
  const double centre = p + z2 / (2 * n);
  const double margin = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return Clamp01((centre - margin) / (1 + z2 / n));
}

}  // namespace dg::detectors
