// AccountState: everything the engine remembers about one account, in fixed-size counters and
// sketches (≈1.6 KiB; see the static_assert). Update() is the per-event path: no allocation, no
// branches on text. Combine() merges two states (a cluster's state is the Combine() of its
// members'), so every detector works unchanged on accounts and on clusters. The fields are
// described once, in state/account_state_fields.inc (type, name, initial value, merge rule): the
// declaration, Combine()'s per-field merge, the field-wise encoding (Save/Load) and the layout
// fingerprint all follow from that table.
#pragma once

#include <array>
#include <cstdint>

#include "common/binary_io.h"
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

  // Calls f(name, s.field...) for every field (the encoding's and fingerprint's field list).
  template <typename F, typename... S>
  static void ForEachField(F&& f, S&... s) {
    f("created_at", s.created_at...);
    f("payment", s.payment...);
    f("email_domain", s.email_domain...);
    f("country", s.country...);
    f("tier", s.tier...);
  }
};

inline constexpr size_t kMaxDetectors = 12;

// Request habits a parameter profile is made of (see AccountState::ParamProfile): the count
// field behind each and its name in reports. X(field, name).
#define DG_PARAM_HABITS(X)                        \
  X(n_gt1, "n > 1")                               \
  X(logprobs, "logprobs")                         \
  X(top_logprobs_ge5, "top_logprobs >= 5")        \
  X(logit_bias, "logit_bias")                     \
  X(max_tokens_le1, "max_tokens <= 1")            \
  X(temp_high, "temperature >= 0.9")              \
  X(temp_zero, "temperature 0")                   \
  X(temp_sampling, "temperature >= 0.5 or unset") \
  X(seeded, "seed")                               \
  X(streamed, "stream")                           \
  X(tools, "tools")                               \
  X(json_output, "JSON output")                   \
  X(effort_high, "reasoning_effort high")         \
  X(with_system, "a system prompt")               \
  X(multi_turn, "multi-turn")
#define DG_HABIT_NAME(field, name) name,
inline constexpr std::array kParamHabitNames = {DG_PARAM_HABITS(DG_HABIT_NAME)};
#undef DG_HABIT_NAME
inline constexpr size_t kParamHabits = kParamHabitNames.size();

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
  // For an unflagged member of a flagged cluster (set at a barrier), or a new account paying with
  // the card of one (set at its first event): the cluster's dominant prompt template (prefix
  // hash) and peak score. The account joins the cluster's verdict at the request that makes its
  // first prompt through that template (kJoinPrompts), not at the next barrier.
  uint64_t join_prefix = 0;
  float join_score = 0;

  // Calls f(name, s.field...) for every field (the encoding's and fingerprint's field list).
  template <typename F, typename... S>
  static void ForEachField(F&& f, S&... s) {
    f("score", s.score...);
    f("peak_score", s.peak_score...);
    f("peak_strength", s.peak_strength...);
    f("level", s.level...);
    f("flagged", s.flagged...);
    f("flagged_by_cluster", s.flagged_by_cluster...);
    f("flagged_by_indicator", s.flagged_by_indicator...);
    f("cluster_harvest", s.cluster_harvest...);
    f("known_indicator", s.known_indicator...);
    f("first_flagged_at", s.first_flagged_at...);
    f("join_prefix", s.join_prefix...);
    f("join_score", s.join_score...);
  }
};

// Requests this close together belong to one session (network hops are counted within one).
inline constexpr TimeUs kSessionGap = 30 * kUsPerMin;
// Distinct user agents, none dominant, from which a client counts as starting a rotation (see
// AccountState::RotatesAgents).
inline constexpr uint32_t kRotationStartAgents = 3;
// From this many end users an account is a multi-tenant app (a SaaS app, a router): its end users
// are judged on their own, and the account as a whole by volume per end user.
inline constexpr double kMultiTenantEndUsers = 20;
// From this many end users, whose ids recur (1.25 requests per end user on average: follow-up
// turns and returning users; a young tutoring app shows 1.4 to 2.5 in its first hours, when few
// of its users have had time to come back), an account relays for others: its end users are
// tracked and judged on their own, and its own prompt style (the app's system prompt and
// wrappers) says nothing of it. A fresh "end user" per request (1.0) does not make an app.
inline constexpr double kRelayEndUsers = 5;
// End users are tracked (engine slots) from this many: judged from kRelayEndUsers, on all they
// sent since the account's second end user.
inline constexpr double kTrackEndUsers = 2;
inline constexpr double kRelayRequestsPerEndUser = 1.25;

// How Combine() merges a field (see state/account_state_fields.inc).
enum class MergeRule : uint8_t { kKeep, kSum, kMax, kOr, kSketch, kSatSum, kCustom };

using HourHist = std::array<uint16_t, 24>;
using ChunkMemory = std::array<uint64_t, 9>;
inline constexpr uint64_t kChunkGeneration = 24;

struct AccountState {
  // The fields, declared from their table (state/account_state_fields.inc, with their comments).
#define DG_FIELD(type, name, init, rule) type name{init};
#include "state/account_state_fields.inc"
#undef DG_FIELD

  // Calls f(name, rule, s.field...) for every field of the table, in order, with that field of
  // each state passed (one state, or two to walk side by side).
  template <typename F, typename... S>
  static void ForEachField(F&& f, S&... s) {
#define DG_FIELD(type, name, init, rule) f(#name, MergeRule::k##rule, s.name...);
#include "state/account_state_fields.inc"
#undef DG_FIELD
  }

  // Field-wise encoding (snapshots, eviction rows): every field of the table in order.
  void Save(Writer& w) const;
  // False (and `r` failed) on truncated or invalid input; the state is then unspecified.
  bool Load(Reader& r);
  // Hash of the field list (names, types, sizes, nested structures' fields): files written with
  // a different list are refused rather than misread.
  static uint64_t LayoutFingerprint();

  void Update(const core::EventRecord& r);
  // Adds `o` into this state. `fresh_age`: an account first active within this long of its
  // registry creation counts as fresh; one the registry does not date counts as fresh when first
  // seen at or after `new_after` (< 0: never; see IsFresh).
  void Combine(const AccountState& o, TimeUs fresh_age = 14 * kUsPerDay, TimeUs new_after = -1);
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
  // First active within `fresh_age` of its registry creation. Without a creation date (no
  // registry, or an account missing from it) the traffic is the only witness: an account first
  // seen at or after `new_after` (the engine passes a time well into its input, since accounts
  // seen at the start may be of any age) is new to it.
  bool IsFresh(TimeUs fresh_age, TimeUs new_after = -1) const {
    if (registry.created_at >= 0) return first_ts - registry.created_at <= fresh_age;
    return new_after >= 0 && first_ts >= new_after;
  }

  // Derived figures used by detectors and evidence.
  double Share(uint64_t count) const {
    return requests ? static_cast<double>(count) / static_cast<double>(requests) : 0.0;
  }
  // Days over which the output was taken: the span from the first request to the last, but no
  // more than the UTC days with a request (per member), so that a few requests a week apart are
  // not a rate spread over the days between. Over two days the two agree; over a month, an
  // account used now and then reads at what it takes on a day it is used, as a heavy one does.
  // At least floor_days (a young account's first requests). ActiveDays() floors at 6 hours.
  double DaysTaking(double floor_days) const;
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
  // Output tokens per prompt token of the input that varies from request to request: prompt
  // tokens scaled by the share of input bytes new to the account (novel_bytes). A few-shot
  // preamble or a long fixed instruction makes the input long and the varying part short; the
  // question in it is what is asked. At most the mean answer (every prompt a repeat); without
  // prompt text, OutputInputRatio().
  double OutputVaryingInputRatio() const {
    if (input_chars == 0) return OutputInputRatio();
    const double novel = std::min(1.0, static_cast<double>(novel_bytes) / input_chars);
    return static_cast<double>(output_tokens) /
           std::max(static_cast<double>(prompt_tokens) * novel,
                    static_cast<double>(std::max<uint64_t>(requests, 1)));
  }
  // Output tokens per prompt token of what was asked (instruction_tokens): like
  // OutputInputRatio() for single-turn traffic, while a follow-up turn counts only its new
  // message, not the conversation it resends. At most the mean answer.
  double OutputInstructionRatio() const {
    return static_cast<double>(output_tokens) /
           static_cast<double>(
               std::max<uint64_t>(std::max<uint64_t>(instruction_tokens, requests), 1));
  }
  // Accounts serving many end users (SaaS apps, resellers) are judged per end user for volume.
  double EndUsers() const { return end_user_hll.Estimate(); }
  double FirstTurnShare(uint32_t count) const {
    return first_turns ? static_cast<double>(count) / first_turns : 0.0;
  }
  // Share of the hours between first and last request in which the account was active.
  double DutyCycle() const;
};

// Field-wise encoding of the structures a snapshot also holds on their own (registry entries of
// unseen accounts, cluster verdicts), as AccountState::Save/Load encode them within a state.
void Save(Writer& w, const RegistryInfo& v);
bool Load(Reader& r, RegistryInfo& v);
void Save(Writer& w, const Verdict& v);
bool Load(Reader& r, Verdict& v);

static_assert(sizeof(AccountState) <= 2048, "per-account state must stay within 2 KiB");

}  // namespace dg::state
