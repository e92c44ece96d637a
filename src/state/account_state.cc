// See account_state.h.
#include "state/account_state.h"

#include <xxhash.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>

#include "common/hash.h"
#include "features/phrases.h"
#include "state/field_traits.h"

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
// Notes one chunk hash in the memory; true when neither generation held it.
bool NoteChunk(ChunkMemory& m, uint32_t h) {
  const unsigned b1 = h & 255, b2 = (h >> 8) & 255;
  const auto has = [&](size_t base) {
    return ((m[base + b1 / 64] >> (b1 % 64)) & 1) && ((m[base + b2 / 64] >> (b2 % 64)) & 1);
  };
  if (has(0)) return false;
  const bool fresh = !has(4);
  m[b1 / 64] |= uint64_t{1} << (b1 % 64);
  m[b2 / 64] |= uint64_t{1} << (b2 % 64);
  if (++m[8] >= kChunkGeneration) {
    for (size_t w = 0; w < 4; ++w) {
      m[w + 4] = m[w];
      m[w] = 0;
    }
    m[8] = 0;
  }
  return fresh;
}
// The input bytes of `r` new to the memory, noting them: the system text counts whole, as one
// chunk (by its normalised hash), when it is new; the user message counts its length times the
// share, by length, of its anchor chunks that are new.
uint64_t NoteNovelBytes(ChunkMemory& m, const EventRecord& r) {
  uint64_t novel = 0;
  if (r.system_hash && NoteChunk(m, static_cast<uint32_t>(r.system_hash))) novel = r.system_bytes;
  const core::TextFeatures& t = r.prompt;
  uint64_t all = 0, fresh = 0;
  for (size_t i = 0; i < core::kAnchors && t.anchor_len[i]; ++i) {
    all += t.anchor_len[i];
    if (NoteChunk(m, t.anchor_hash[i])) fresh += t.anchor_len[i];
  }
  return novel + (all ? uint64_t{t.bytes} * fresh / all : 0);
}
}  // namespace

void AccountState::Update(const EventRecord& r) {
  const bool in_session = requests > 0 && std::llabs(r.ts - last_ts) <= kSessionGap;
  if (requests == 0) first_ts = r.ts;
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

  const uint32_t phrases = r.prompt.phrase_mask | r.system_phrase_mask;
  cot += (phrases & features::kCotElicit) != 0;
  reasoning_format += (phrases & features::kReasoningFormat) != 0;
  translation += (phrases & features::kTranslation) != 0;
  datagen += (phrases & features::kDataGen) != 0;
  train_purpose += (phrases & features::kTrainPurpose) != 0;
  if (r.n_assistant == 0 && r.prompt.chars > 0) {
    ++first_turns;
    task_style += (r.prompt.phrase_mask & features::kTaskStyle) != 0;
    first_person += (r.prompt.phrase_mask & features::kFirstPerson) != 0;
  }

  const uint64_t novel = NoteNovelBytes(chunk_memory, r);
  novel_bytes += novel;
  if (r.n_assistant == 0 || r.input_chars == 0) {
    instruction_tokens += static_cast<uint64_t>(r.prompt_tokens);
  } else {
    // In floating point: a log's token count is not bounded, and the product could wrap.
    const double share = static_cast<double>(std::min<uint64_t>(novel, r.input_chars)) /
                         static_cast<double>(r.input_chars);
    instruction_tokens += static_cast<uint64_t>(static_cast<double>(r.prompt_tokens) * share);
  }
  if (r.prompt.chars == 0) {
    ++empty_prompt;
  } else {
    skeletons.Add(r.prompt.skeleton_hash);
    prefixes.Add(r.prompt.prefix_hash);
    suffixes.Add(r.prompt.suffix_hash);
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
    if (last_hour < 0 || hour / 24 != last_hour / 24) ++active_days;  // a new UTC day
    last_hour = hour;
  }
}

std::array<uint8_t, kParamHabits> AccountState::ParamLevels() const {
#define DG_HABIT_COUNT(field, name) field,
  const uint32_t counts[kParamHabits] = {DG_PARAM_HABITS(DG_HABIT_COUNT)};
#undef DG_HABIT_COUNT
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

namespace {
// Merges one field by its rule; Keep and Custom fields are left to Combine().
template <MergeRule R, typename T>
void MergeField(T& a, const T& b) {
  if constexpr (R == MergeRule::kSum) {
    a += b;
  } else if constexpr (R == MergeRule::kMax) {
    a = std::max(a, b);
  } else if constexpr (R == MergeRule::kOr) {
    a |= b;
  } else if constexpr (R == MergeRule::kSketch) {
    a.Merge(b);
  } else if constexpr (R == MergeRule::kSatSum) {
    using E = typename T::value_type;
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] =
          static_cast<E>(std::min<uint64_t>(std::numeric_limits<E>::max(), uint64_t{a[i]} + b[i]));
    }
  }
}
}  // namespace

void AccountState::Combine(const AccountState& o, TimeUs fresh_age, TimeUs new_after) {
  // The Custom fields, first: their rules read fields the table's merge changes.
  fresh_members += o.members == 1 ? (o.IsFresh(fresh_age, new_after) ? 1 : 0) : o.fresh_members;
  rotating_members += o.members == 1 ? (o.RotatesAgents() ? 1 : 0) : o.rotating_members;
  first_ts = requests ? std::min(first_ts, o.first_ts) : o.first_ts;
  if (o.asn_candidate == asn_candidate) {
    asn_votes += o.asn_votes;
  } else if (o.asn_votes > asn_votes) {
    asn_candidate = o.asn_candidate;
    asn_votes = o.asn_votes - asn_votes;
  } else {
    asn_votes -= o.asn_votes;
  }
#define DG_FIELD(type, name, init, rule) MergeField<MergeRule::k##rule>(name, o.name);
#include "state/account_state_fields.inc"
#undef DG_FIELD
}

namespace {

using field_traits::IsStdArray;
using field_traits::kNested;

template <typename T>
void SaveValue(Writer& w, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    w.Pod<uint8_t>(v ? 1 : 0);
  } else if constexpr (Scalar<T>) {
    w.Pod(v);
  } else if constexpr (IsStdArray<T>::value) {
    for (const auto& e : v) SaveValue(w, e);
  } else if constexpr (kNested<T>) {
    T::ForEachField([&](const char*, const auto& f) { SaveValue(w, f); }, v);
  } else {
    v.Save(w);  // a sketch
  }
}

template <typename T>
bool LoadValue(Reader& r, T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return r.Bool(v);
  } else if constexpr (Scalar<T>) {
    return r.Pod(v);
  } else if constexpr (IsStdArray<T>::value) {
    for (auto& e : v) {
      if (!LoadValue(r, e)) return false;
    }
    return true;
  } else if constexpr (kNested<T>) {
    T::ForEachField([&](const char*, auto& f) { LoadValue(r, f); }, v);
    return r.ok();
  } else {
    return v.Load(r);
  }
}

template <typename T>
struct SketchName;
template <int K>
struct SketchName<TopK<K>> {
  static std::string Get() { return "topk" + std::to_string(K); }
};
template <int P>
struct SketchName<Hll<P>> {
  static std::string Get() { return "hll" + std::to_string(P); }
};

// A type's encoding in words: scalars by kind and size, arrays by length, structures by their
// fields, sketches by kind and parameter.
template <typename T>
void Describe(std::string& out) {
  if constexpr (std::is_same_v<T, bool>) {
    out += "b";
  } else if constexpr (Scalar<T>) {
    out += std::is_floating_point_v<T> ? 'f' : std::is_signed_v<T> ? 'i' : 'u';
    out += std::to_string(sizeof(T));
  } else if constexpr (IsStdArray<T>::value) {
    out += "[" + std::to_string(std::tuple_size_v<T>) + "]";
    Describe<typename T::value_type>(out);
  } else if constexpr (kNested<T>) {
    const T v{};
    out += "{";
    T::ForEachField(
        [&](const char* name, const auto& f) {
          out += name;
          out += ':';
          Describe<std::decay_t<decltype(f)>>(out);
          out += ';';
        },
        v);
    out += "}";
  } else {
    out += SketchName<T>::Get();
  }
}

}  // namespace

void AccountState::Save(Writer& w) const {
  ForEachField([&](const char*, MergeRule, const auto& f) { SaveValue(w, f); }, *this);
}

bool AccountState::Load(Reader& r) {
  ForEachField([&](const char*, MergeRule, auto& f) { LoadValue(r, f); }, *this);
  return r.ok();
}

void Save(Writer& w, const RegistryInfo& v) { SaveValue(w, v); }
bool Load(Reader& r, RegistryInfo& v) { return LoadValue(r, v); }
void Save(Writer& w, const Verdict& v) { SaveValue(w, v); }
bool Load(Reader& r, Verdict& v) { return LoadValue(r, v); }

uint64_t AccountState::LayoutFingerprint() {
  static const uint64_t fingerprint = [] {
    std::string desc;
    const AccountState s;
    ForEachField(
        [&](const char* name, MergeRule, const auto& f) {
          desc += name;
          desc += ':';
          Describe<std::decay_t<decltype(f)>>(desc);
          desc += ';';
        },
        s);
    return XXH3_64bits(desc.data(), desc.size());
  }();
  return fingerprint;
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

double AccountState::ActiveDays() const { return DaysTaking(0.25); }

double AccountState::DaysTaking(double floor_days) const {
  const double span = static_cast<double>(last_ts - first_ts) / kUsPerDay;
  if (active_days == 0) return std::max(span, floor_days);  // built without Update()
  const double days = static_cast<double>(active_days) / std::max<uint32_t>(members, 1);
  return std::max(std::min(span, std::max(days, 1.0)), floor_days);
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
