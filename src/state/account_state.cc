// See account_state.h.
#include "state/account_state.h"

#include <cmath>
#include <cstdlib>

#include "common/hash.h"
#include "features/phrases.h"

namespace dg::state {

using core::EventRecord;

namespace {
// Sets the two bits of a (uniform) hash in a 64-bit filter; true if they were not both set: a
// value not seen before, as far as the filter can tell.
bool AddToFilter(uint64_t& filter, uint64_t hash) {
  const uint64_t bits = (uint64_t{1} << (hash & 63)) | (uint64_t{1} << ((hash >> 6) & 63));
  if ((filter & bits) == bits) return false;
  filter |= bits;
  return true;
}
}  // namespace

void AccountState::Update(const EventRecord& r) {
  const bool in_session = requests > 0 && std::llabs(r.ts - last_ts) <= kSessionGap;
  if (requests == 0) {
    first_ts = r.ts;
  } else if (r.ts > last_ts) {
    const double gap_s = static_cast<double>(r.ts - last_ts) / kUsPerSec;
    log_gap.Add(std::log10(gap_s + 0.1));
  }
  if (r.ts > last_ts || requests == 0) last_ts = r.ts;
  ++requests;
  if (r.flags & core::kFlagError) ++errors;
  prompt_tokens += static_cast<uint64_t>(r.prompt_tokens);
  output_tokens += static_cast<uint64_t>(r.completion_tokens);
  reasoning_tokens += static_cast<uint64_t>(r.reasoning_tokens);
  input_chars += r.input_chars;

  n_gt1 += r.n > 1;
  n_sum += static_cast<uint64_t>(r.n);
  logprobs += (r.flags & core::kFlagLogprobs) != 0;
  top_logprobs_ge5 += r.top_logprobs >= 5;
  logit_bias += r.logit_bias_entries > 0;
  max_tokens_le1 += r.max_tokens >= 0 && r.max_tokens <= 1;
  temp_high += r.temperature >= 0.9f;
  temp_zero += r.temperature == 0.0f;
  // Sampling temperature (unset means the API default of 1).
  temp_sampling += r.temperature < 0 || r.temperature >= 0.5f;
  seeded += (r.flags & core::kFlagSeed) != 0;
  streamed += (r.flags & core::kFlagStream) != 0;
  tools += (r.flags & core::kFlagTools) != 0;
  json_output += (r.flags & core::kFlagJsonOutput) != 0;
  effort_high += r.reasoning_effort >= 3;
  with_system += (r.flags & core::kFlagHasSystem) != 0;
  multi_turn += r.n_assistant > 0;
  tiny_output += r.completion_tokens > 0 && r.completion_tokens <= 16;

  const uint32_t phrases = r.prompt.phrase_mask | r.system_phrase_mask;
  cot += (phrases & features::kCotElicit) != 0;
  reasoning_format += (phrases & features::kReasoningFormat) != 0;
  translation += (phrases & features::kTranslation) != 0;
  datagen += (phrases & features::kDataGen) != 0;
  train_purpose += (phrases & features::kTrainPurpose) != 0;
  roleplay += (phrases & features::kRoleplay) != 0;
  exhaustive += (phrases & features::kExhaustiveAnswer) != 0;
  if (r.n_assistant == 0 && r.prompt.chars > 0) {
    ++first_turns;
    task_style += (r.prompt.phrase_mask & features::kTaskStyle) != 0;
    first_person += (r.prompt.phrase_mask & features::kFirstPerson) != 0;
  }

  if (r.prompt.chars == 0) {
    ++empty_prompt;
  } else {
    skeletons.Add(r.prompt.skeleton_hash);
    prefixes.Add(r.prompt.prefix_hash);
    suffixes.Add(r.prompt.suffix_hash);
    // Near-duplicate against the last few prompts (SimHash within 3 bits, not identical).
    bool exact = false, near = false;
    for (uint64_t h : recent_simhash) {
      if (h == 0) continue;
      int d = __builtin_popcountll(h ^ r.prompt.simhash);
      if (d == 0)
        exact = true;
      else if (d <= 3)
        near = true;
    }
    exact_repeat += exact;
    near_dup += near && !exact;
    recent_simhash[recent_pos] = r.prompt.simhash;
    recent_pos = static_cast<uint8_t>((recent_pos + 1) % recent_simhash.size());
    prompts.Add(r.prompt.exact_hash);
  }
  if (r.system_hash) systems.Add(r.system_hash);
  params.Add(r.param_signature);
  if (r.ip_prefix) {
    ip_prefixes.Add(r.ip_prefix);
    ip_prefix_hll.Add(r.ip_prefix);
    const auto folded = static_cast<uint32_t>(r.ip_prefix >> 32) | 1u;
    if (in_session && last_prefix) {
      ++prefix_pairs;
      prefix_hops += folded != last_prefix;
    }
    last_prefix = folded;
    if (AddToFilter(prefix_bloom, r.ip_prefix)) prefix_distinct += prefix_distinct < 255;
    if (r.user_agent && AddToFilter(combo_bloom, HashMix(r.user_agent, r.ip_prefix))) {
      combo_distinct += combo_distinct < 255;
    }
  }
  if (r.user_agent) {
    agents.Add(r.user_agent);
    if (AddToFilter(agent_bloom, r.user_agent)) {
      agent_distinct += agent_distinct < 255;
      agent_set += (r.user_agent ^ (r.user_agent >> 29)) * 0xbf58476d1ce4e5b9ULL;
    }
  }
  if (r.fingerprint) fingerprints.Add(r.fingerprint);
  const uint8_t prev_country = last_country;
  if (r.country) {
    // Before the ASN block: last_asn still holds the previous request's ASN.
    if (in_session && last_country && (r.asn == 0 || last_asn == 0)) {
      ++geo_pairs;
      geo_hops += r.country != last_country;
    }
    last_country = r.country;
    if (AddToFilter(country_bloom, uint64_t{r.country} * 0x9E3779B97F4A7C15ULL >> 52)) {
      country_distinct += country_distinct < 255;
    }
  }
  if (r.asn) {
    const auto asn = static_cast<uint32_t>(r.asn);
    const uint64_t mixed = r.asn * 0x9E3779B97F4A7C15ULL;  // ASNs are small numbers: spread them
    const uint64_t bits = (uint64_t{1} << (mixed >> 58)) | (uint64_t{1} << ((mixed >> 52) & 63));
    if ((asn_bloom & bits) != bits) {
      asn_bloom |= bits;
      asn_distinct += asn_distinct < 255;
    }
    if (in_session && last_asn) {
      ++session_pairs;
      network_hops += asn != last_asn;
      border_hops += asn != last_asn && r.country && prev_country && r.country != prev_country;
    }
    last_asn = asn;
    if (asn == asn_candidate) {
      ++asn_votes;
    } else if (asn_votes == 0) {
      asn_candidate = asn;
      asn_votes = 1;
    } else {
      --asn_votes;
    }
  }
  if (r.end_user) end_user_hll.Add(r.end_user);
  const int64_t hour = r.ts / kUsPerHour;
  uint16_t& h = hour_hist[static_cast<size_t>(hour % 24)];
  if (h != UINT16_MAX) ++h;
  if (hour != last_hour) {
    ++active_hours;
    last_hour = hour;
  }
}

const std::array<const char*, kParamHabits> kParamHabitNames = {"n > 1",
                                                                "logprobs",
                                                                "top_logprobs >= 5",
                                                                "logit_bias",
                                                                "max_tokens <= 1",
                                                                "temperature >= 0.9",
                                                                "temperature 0",
                                                                "temperature >= 0.5 or unset",
                                                                "seed",
                                                                "stream",
                                                                "tools",
                                                                "JSON output",
                                                                "reasoning_effort high",
                                                                "a system prompt",
                                                                "multi-turn"};

std::array<uint8_t, kParamHabits> AccountState::ParamLevels() const {
  const uint32_t counts[kParamHabits] = {
      n_gt1,     logprobs,    top_logprobs_ge5, logit_bias,  max_tokens_le1,
      temp_high, temp_zero,   temp_sampling,    seeded,      streamed,
      tools,     json_output, effort_high,      with_system, multi_turn};
  std::array<uint8_t, kParamHabits> out{};
  for (size_t i = 0; i < kParamHabits; ++i) {
    const uint64_t c = counts[i];
    out[i] = c * 50 <= requests ? 0 : c * 50 >= requests * 49 ? 2 : 1;
  }
  return out;
}

uint64_t AccountState::ParamProfile() const {
  uint64_t levels = 1;
  for (uint8_t level : ParamLevels()) levels = levels * 3 + level;
  const uint64_t signature = params.TopShare() >= 0.8 ? params.Top().key : 0;
  return HashMix(levels, signature) | 1;
}

void AccountState::Combine(const AccountState& o, TimeUs fresh_age) {
  fresh_members += o.members == 1 ? (o.IsFresh(fresh_age) ? 1 : 0) : o.fresh_members;
  rotating_members += o.members == 1 ? (o.RotatesAgents() ? 1 : 0) : o.rotating_members;
  members += o.members;
  first_ts = requests ? std::min(first_ts, o.first_ts) : o.first_ts;
  last_ts = std::max(last_ts, o.last_ts);
  requests += o.requests;
  errors += o.errors;
  prompt_tokens += o.prompt_tokens;
  output_tokens += o.output_tokens;
  reasoning_tokens += o.reasoning_tokens;
  input_chars += o.input_chars;
  n_gt1 += o.n_gt1;
  n_sum += o.n_sum;
  logprobs += o.logprobs;
  top_logprobs_ge5 += o.top_logprobs_ge5;
  logit_bias += o.logit_bias;
  max_tokens_le1 += o.max_tokens_le1;
  temp_high += o.temp_high;
  temp_zero += o.temp_zero;
  temp_sampling += o.temp_sampling;
  seeded += o.seeded;
  streamed += o.streamed;
  tools += o.tools;
  json_output += o.json_output;
  effort_high += o.effort_high;
  with_system += o.with_system;
  multi_turn += o.multi_turn;
  tiny_output += o.tiny_output;
  cot += o.cot;
  reasoning_format += o.reasoning_format;
  translation += o.translation;
  datagen += o.datagen;
  train_purpose += o.train_purpose;
  roleplay += o.roleplay;
  exhaustive += o.exhaustive;
  empty_prompt += o.empty_prompt;
  near_dup += o.near_dup;
  exact_repeat += o.exact_repeat;
  first_turns += o.first_turns;
  task_style += o.task_style;
  first_person += o.first_person;
  skeletons.Merge(o.skeletons);
  prefixes.Merge(o.prefixes);
  suffixes.Merge(o.suffixes);
  systems.Merge(o.systems);
  params.Merge(o.params);
  ip_prefixes.Merge(o.ip_prefixes);
  agents.Merge(o.agents);
  fingerprints.Merge(o.fingerprints);
  if (o.asn_candidate == asn_candidate) {
    asn_votes += o.asn_votes;
  } else if (o.asn_votes > asn_votes) {
    asn_candidate = o.asn_candidate;
    asn_votes = o.asn_votes - asn_votes;
  } else {
    asn_votes -= o.asn_votes;
  }
  prompts.Merge(o.prompts);
  end_user_hll.Merge(o.end_user_hll);
  ip_prefix_hll.Merge(o.ip_prefix_hll);
  // A cluster's agent set is not the sum of its members' (they overlap): only the filter merges.
  agent_bloom |= o.agent_bloom;
  asn_bloom |= o.asn_bloom;
  network_hops += o.network_hops;
  border_hops += o.border_hops;
  session_pairs += o.session_pairs;
  prefix_bloom |= o.prefix_bloom;
  combo_bloom |= o.combo_bloom;
  prefix_hops += o.prefix_hops;
  prefix_pairs += o.prefix_pairs;
  country_bloom |= o.country_bloom;
  geo_hops += o.geo_hops;
  geo_pairs += o.geo_pairs;
  for (size_t i = 0; i < hour_hist.size(); ++i) {
    hour_hist[i] = static_cast<uint16_t>(
        std::min<uint32_t>(UINT16_MAX, uint32_t{hour_hist[i]} + o.hour_hist[i]));
  }
  log_gap.Merge(o.log_gap);
  active_hours += o.active_hours;
}

namespace {
// Values behind a 64-bit filter with two bits per value: the linear-counting estimate from its
// fill (saturates near 100).
double FilterCount(uint64_t filter) {
  const int bits = std::popcount(filter);
  if (bits >= 63) return 100;
  return -32.0 * std::log(1.0 - bits / 64.0);
}
}  // namespace

double AccountState::Agents() const {
  return members == 1 ? agent_distinct : FilterCount(agent_bloom);
}

double AccountState::Asns() const { return members == 1 ? asn_distinct : FilterCount(asn_bloom); }

double AccountState::Countries() const {
  return members == 1 ? country_distinct : FilterCount(country_bloom);
}

double AccountState::ActiveDays() const {
  const double span = static_cast<double>(last_ts - first_ts) / kUsPerDay;
  return std::max(span, 0.25);
}

double AccountState::DutyCycle() const {
  const double span_hours = static_cast<double>(last_ts / kUsPerHour - first_ts / kUsPerHour + 1);
  return std::min(1.0,
                  static_cast<double>(active_hours) / std::max<uint32_t>(members, 1) / span_hours);
}

double AccountState::OutputPerDay() const {
  return static_cast<double>(output_tokens) / ActiveDays() / std::max<uint32_t>(members, 1);
}

double AccountState::DistinctPromptRatio() const {
  const uint64_t with_text = requests - empty_prompt;
  if (with_text == 0) return 0;
  return std::min(1.0, prompts.Estimate() / static_cast<double>(with_text));
}

}  // namespace dg::state
