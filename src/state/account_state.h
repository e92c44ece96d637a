// AccountState: everything the engine remembers about one account, in fixed-size counters and
// sketches (≈1.6 KiB; see the static_assert). Update() is the per-event path: no allocation, no
// branches on text. Combine() merges two states (a cluster's state is the Combine() of its
// members'), so every detector works unchanged on accounts and on clusters.
#pragma once

#include <array>
#include <cstdint>

#include "common/time.h"
#include "core/event.h"
#include "state/sketches.h"

namespace dg::state {

struct RegistryInfo {
  TimeUs created_at = -1;
  uint64_t payment = 0;       // hash of payment_fingerprint
  uint64_t email_domain = 0;  // hash of email_domain
  uint16_t country = 0;       // two ASCII letters packed
  uint8_t tier = 0;
};

inline constexpr size_t kMaxDetectors = 12;

// Request habits a parameter profile is made of (see AccountState::ParamProfile).
inline constexpr size_t kParamHabits = 15;
extern const std::array<const char*, kParamHabits> kParamHabitNames;

struct Verdict {
  float score = 0;       // latest score
  float peak_score = 0;  // highest score reached (what the report shows)
  // Detector strengths when the peak was reached: the evidence behind the verdict, even if the
  // account's later traffic dilutes the figures.
  std::array<uint8_t, kMaxDetectors> peak_strength{};  // strength * 255
  uint8_t level = 0;
  bool flagged = false;
  bool flagged_by_cluster = false;
  bool flagged_by_indicator = false;
  // The strongest harvest strength (x255) of the linked cluster the account is in, as of the
  // last barrier: harvest evidence shown by the cluster opens the account's harvest gate (see
  // scoring/scorer.h), so the account's own concealment counts.
  uint8_t cluster_harvest = 0;
  uint32_t known_indicator = 0;  // index + 1 in the known-indicator list that matched, 0 if none
  TimeUs first_flagged_at = -1;
};

// Requests this close together belong to one session (network hops are counted within one).
inline constexpr TimeUs kSessionGap = 30 * kUsPerMin;
// Distinct user agents, none dominant, from which a client counts as starting a rotation (see
// AccountState::RotatesAgents).
inline constexpr uint32_t kRotationStartAgents = 3;
// From this many end users an account is a multi-tenant app (a SaaS app, a router): its end users
// are judged on their own, and the account as a whole by volume per end user.
inline constexpr double kMultiTenantEndUsers = 20;
// From this many end users, each coming back (two requests per end user on average: an app
// growing its first users shows about three), an account relays for others: its end users are
// tracked and judged on their own, and its own prompt style (the app's system prompt and
// wrappers) says nothing of it. A fresh "end user" per request does not make an app.
inline constexpr double kRelayEndUsers = 5;
inline constexpr double kRelayRequestsPerEndUser = 2;

struct AccountState {
  uint64_t account = 0;
  uint32_t members = 1;           // accounts combined into this state (1 for an account)
  uint32_t fresh_members = 0;     // of those, accounts first active soon after creation (clusters)
  uint32_t rotating_members = 0;  // of those, accounts that rotate user agents (clusters)
  TimeUs first_ts = 0, last_ts = 0;
  uint64_t requests = 0, errors = 0;
  uint64_t prompt_tokens = 0, output_tokens = 0, reasoning_tokens = 0, input_chars = 0;

  // Request parameters: number of requests with each property.
  uint32_t n_gt1 = 0, logprobs = 0, top_logprobs_ge5 = 0, logit_bias = 0, max_tokens_le1 = 0,
           temp_high = 0, temp_zero = 0, temp_sampling = 0, seeded = 0, streamed = 0, tools = 0,
           json_output = 0, effort_high = 0, with_system = 0, multi_turn = 0, tiny_output = 0;
  uint64_t n_sum = 0;

  // Prompt text: requests whose prompt or system text matched each phrase category.
  uint32_t cot = 0, reasoning_format = 0, translation = 0, datagen = 0, roleplay = 0,
           exhaustive = 0, empty_prompt = 0, near_dup = 0, exact_repeat = 0, train_purpose = 0;
  // Style of opening prompts (requests with no assistant turn yet): conversations' later turns
  // are follow-ups and say little about where the first question came from.
  uint32_t first_turns = 0, task_style = 0, first_person = 0;

  TopK<8> skeletons;  // template skeletons of prompts
  TopK<8> prefixes;   // first-words skeletons
  TopK<8> suffixes;   // last-words skeletons
  TopK<4> systems;    // system prompt hashes
  TopK<2> params;     // request-parameter signatures
  TopK<4> ip_prefixes, agents, fingerprints;
  // Majority vote (Boyer-Moore) over client ASNs, 8 bytes instead of a top-k: at least asn_votes
  // requests came from the candidate, and an ASN with a majority of the requests is the candidate.
  uint32_t asn_candidate = 0;  // ASN + 1 (0 = none yet)
  uint32_t asn_votes = 0;
  Hll<8> prompts;  // distinct prompts (exact normalised hash)
  Hll<7> end_user_hll;
  // The first API key the account used (hash; 0 = none yet). The engine tracks the account key
  // by key from the event that shows a second one (engine::UnitTracker).
  uint64_t first_api_key = 0;
  Hll<5> ip_prefix_hll;
  // The set of distinct user agents, order-free: a 64-bit Bloom filter (two bits per agent) says
  // whether an agent was seen, and agent_set sums a mix of each new agent's hash. A client that
  // rotates agents from a list (a scraping script) has the same set on every account it drives.
  // The filter also counts agents: exactly for an account while it holds few (agent_distinct),
  // by its fill for a cluster's merged filter (see Agents()).
  uint64_t agent_bloom = 0, agent_set = 0;
  uint8_t agent_distinct = 0;  // agents summed into agent_set (saturating)
  // Networks hopped within sessions. A person stays on one network for the minutes of a session
  // (a phone may alternate between two); a proxy pool hands out another exit, often another ISP,
  // for each request. Of the consecutive request pairs at most kSessionGap apart
  // (session_pairs), network_hops changed ASN; asn_bloom/asn_distinct count ASNs like agents.
  // Of the network hops, border_hops also changed country (both countries known): a phone's
  // Wi-Fi and carrier, or an office's two uplinks, are in one country; two exits of a proxy pool
  // seldom are.
  uint8_t asn_distinct = 0;  // saturating
  uint32_t network_hops = 0;
  uint32_t session_pairs = 0;
  uint32_t border_hops = 0;
  uint32_t last_asn = 0;  // ASN of the latest request in arrival order (0 = unknown)
  uint64_t asn_bloom = 0;
  // The same within one ISP, or where the gateway gives no ASN, by /24 (or /48): of the request
  // pairs at most kSessionGap apart (prefix_pairs), prefix_hops changed network. A phone on a
  // carrier's NAT pool changes address too, so this only counts together with a rotating
  // client, and with agents and networks in more combinations than either alone explains
  // (combo_distinct: pairs of agent and /24, against agent_distinct and prefix_distinct): people
  // sharing one key each keep their own client on their own network.
  uint32_t last_prefix = 0;  // folded /24 of the latest request in arrival order (0 = unknown)
  uint32_t prefix_pairs = 0, prefix_hops = 0;
  uint64_t prefix_bloom = 0, combo_bloom = 0;
  uint8_t prefix_distinct = 0, combo_distinct = 0;  // saturating
  // Where the gateway gives no ASN, the client's country (from its address, features::CountryDb)
  // stands in for it: of the in-session request pairs lacking an ASN on either side whose
  // countries are known (geo_pairs), geo_hops changed country. A person does not cross a border
  // between two requests minutes apart; a proxy pool's exits do. Pairs with ASNs on both sides
  // are judged by ASN alone: one network spanning countries (a CDN's or a cloud's edge) is not a
  // change of network. country_bloom/country_distinct count countries like agents.
  uint64_t country_bloom = 0;
  uint32_t geo_pairs = 0, geo_hops = 0;
  uint8_t last_country = 0;      // country of the latest request in arrival order (0 = unknown)
  uint8_t country_distinct = 0;  // saturating
  std::array<uint64_t, 8> recent_simhash{};
  uint8_t recent_pos = 0;

  std::array<uint16_t, 24> hour_hist{};  // requests by hour of day (UTC), saturating
  RunningStats log_gap;                  // log10 of seconds between requests
  uint32_t active_hours = 0;
  int64_t last_hour = -1;

  RegistryInfo registry;
  Verdict verdict;
  int16_t peer_bucket = -1;  // bucket this account occupies in the peer histogram
  uint32_t cluster = 0;      // index of the account in the engine's linker (set by the engine)

  void Update(const core::EventRecord& r);
  // Adds `o` into this state. `fresh_age`: an account first active within this long of its
  // registry creation counts as fresh.
  void Combine(const AccountState& o, TimeUs fresh_age = 14 * kUsPerDay);
  // Distinct user agents: the account's count, or for a cluster the linear-counting estimate from
  // its merged filter's fill (two bits per agent in 64; saturates near 100).
  double Agents() const;
  // Distinct client ASNs, exactly for an account holding few, estimated for a cluster.
  double Asns() const;
  // Distinct client countries, exactly for an account holding few, estimated for a cluster.
  double Countries() const;
  // Share of in-session request pairs that changed network (ASN).
  double HopShare() const {
    return session_pairs ? static_cast<double>(network_hops) / session_pairs : 0.0;
  }
  // `min_agents` or more user agents in use and none with 60% of the requests: a client rotating
  // agents from a list, as scripts behind proxy pools do (a person has one or two clients). An
  // app that names its end users (20 or more) relays their clients' agents: not a rotation.
  // Four make a rotation by themselves (a cluster's evidence counts such members); three are
  // the start of one, which a script's accounts show by their 5th to 10th request: enough to
  // post the set for linking and to join a flagged cluster whose members rotate.
  bool RotatesAgents(uint32_t min_agents = 4) const {
    return requests >= 5 && agents.TopShare() < 0.6 && agent_distinct >= min_agents &&
           EndUsers() < 20;
  }
  // The client's parameter habits: for each request property (n > 1, logprobs, logit_bias,
  // max_tokens <= 1, temperature 0 / >= 0.9, seed, stream, tools, JSON output, high reasoning
  // effort, system prompt, multi-turn) whether the account never (<= 2%), sometimes or always
  // (>= 98%) sets it, plus its parameter signature when one holds 80% of its requests (else
  // "varies"). A script keeps these on every account it drives and randomises what it randomises
  // the same way; people drift. Meaningful after some tens of requests; never 0.
  uint64_t ParamProfile() const;
  // The levels behind it, per habit (0 never, 1 sometimes, 2 always; kParamHabitNames).
  std::array<uint8_t, kParamHabits> ParamLevels() const;
  bool IsFresh(TimeUs fresh_age) const {
    return registry.created_at >= 0 && first_ts - registry.created_at <= fresh_age;
  }

  // Derived figures used by detectors and evidence.
  double Share(uint64_t count) const {
    return requests ? static_cast<double>(count) / static_cast<double>(requests) : 0.0;
  }
  double ActiveDays() const;
  double OutputPerDay() const;
  double MeanPromptTokens() const {
    return requests ? static_cast<double>(prompt_tokens) / static_cast<double>(requests) : 0.0;
  }
  double MeanOutputTokens() const {
    return requests ? static_cast<double>(output_tokens) / static_cast<double>(requests) : 0.0;
  }
  double DistinctPromptRatio() const;
  // Output tokens per prompt token: harvesting sends short prompts for long answers; RAG,
  // summarisation and classification send long inputs for short outputs.
  double OutputInputRatio() const {
    return static_cast<double>(output_tokens) /
           static_cast<double>(std::max<uint64_t>(prompt_tokens, 1));
  }
  // Accounts serving many end users (SaaS apps, resellers) are judged per end user for volume.
  double EndUsers() const { return end_user_hll.Estimate(); }
  double FirstTurnShare(uint32_t count) const {
    return first_turns ? static_cast<double>(count) / first_turns : 0.0;
  }
  // Share of the hours between first and last request in which the account was active.
  double DutyCycle() const;
};

static_assert(sizeof(AccountState) <= 2048, "per-account state must stay within 2 KiB");

}  // namespace dg::state
