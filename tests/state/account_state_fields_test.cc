// AccountState's field table (state/account_state_fields.inc) against Combine() and the
// field-wise encoding: every field of two states is set to distinct non-default values through
// the table, the states are combined, and each field is checked against its merge rule. Fields
// Combine() leaves alone or merges by hand are named here, so that a field dropped from the merge
// (or quietly given the Keep rule) fails the test instead of vanishing from clusters.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <type_traits>

#include "common/hash.h"
#include "state/account_state.h"
#include "state/field_traits.h"

namespace dg::state {
namespace {

// Fields Combine() does not merge: per-account facts and counts a cluster derives otherwise.
const std::set<std::string> kKeepFields = {
    "account",         "chunk_memory",   "first_api_key",    "agent_set",
    "last_asn",        "last_prefix",    "agent_distinct",   "asn_distinct",
    "prefix_distinct", "combo_distinct", "country_distinct", "last_country",
    "peer_bucket",     "last_hour",      "registry",         "verdict"};
// Fields Combine() merges by hand (checked one by one below).
const std::set<std::string> kCustomFields = {"fresh_members", "rotating_members", "first_ts",
                                             "asn_candidate", "asn_votes"};

using field_traits::IsStdArray;
using field_traits::kNested;

// A value derived from `seed`, different for different seeds (within a field's range).
template <typename T>
void Fill(T& v, uint64_t seed) {
  if constexpr (std::is_same_v<T, bool>) {
    v = true;
  } else if constexpr (Scalar<T>) {
    v = static_cast<T>(seed);
  } else if constexpr (IsStdArray<T>::value) {
    for (size_t i = 0; i < v.size(); ++i) Fill(v[i], seed + i);
  } else if constexpr (kNested<T>) {
    uint64_t k = 0;
    T::ForEachField([&](const char*, auto& f) { Fill(f, seed + ++k); }, v);
  } else if constexpr (requires { v.Estimate(); }) {
    for (uint64_t i = 0; i < 40; ++i) v.Add(HashMix(seed, i));
  } else {
    for (uint32_t i = 0; i < 3; ++i) v.Add(seed * 1000 + i, i + 1);
  }
}

template <typename T>
std::string Bytes(const T& v) {
  std::string out;
  Writer w(out);
  if constexpr (std::is_same_v<T, bool>) {
    w.Pod<uint8_t>(v);
  } else if constexpr (Scalar<T>) {
    w.Pod(v);
  } else if constexpr (IsStdArray<T>::value) {
    for (const auto& e : v) out += Bytes(e);
  } else if constexpr (kNested<T>) {
    T::ForEachField([&](const char*, const auto& f) { out += Bytes(f); }, v);
  } else {
    v.Save(w);
  }
  return out;
}

// Two states with every field set, b's values above a's (distinct per field), so that each
// rule's result differs from a's value.
void FillPair(AccountState& a, AccountState& b) {
  uint64_t k = 0;
  AccountState::ForEachField(
      [&](const char*, MergeRule, auto& fa, auto& fb) {
        k += 2;
        Fill(fa, 10 + 2 * k);
        Fill(fb, 11 + 2 * k);
      },
      a, b);
}

TEST(AccountStateFieldsTest, CombineMergesEveryFieldByItsRule) {
  AccountState a, b;
  FillPair(a, b);
  const AccountState before = a;
  a.Combine(b);
  size_t fields = 0;
  AccountState::ForEachField(
      [&](const char* name, MergeRule rule, const auto& merged, const auto& a0, const auto& b0) {
        using T = std::decay_t<decltype(merged)>;
        ++fields;
        SCOPED_TRACE(name);
        if (rule == MergeRule::kKeep) {
          EXPECT_TRUE(kKeepFields.count(name)) << "not merged by Combine(): " << name;
          EXPECT_EQ(Bytes(merged), Bytes(a0));
          return;
        }
        if (rule == MergeRule::kCustom) {
          EXPECT_TRUE(kCustomFields.count(name));
          return;
        }
        EXPECT_FALSE(kKeepFields.count(name) || kCustomFields.count(name));
        EXPECT_NE(Bytes(merged), Bytes(a0)) << "unchanged by Combine(): " << name;
        T expected = a0;
        if constexpr (Scalar<T>) {
          if (rule == MergeRule::kSum) expected = static_cast<T>(a0 + b0);
          if (rule == MergeRule::kMax) expected = std::max(a0, b0);
          if constexpr (std::is_integral_v<T>) {
            if (rule == MergeRule::kOr) expected = static_cast<T>(a0 | b0);
          }
          EXPECT_TRUE(rule == MergeRule::kSum || rule == MergeRule::kMax || rule == MergeRule::kOr);
        } else if constexpr (IsStdArray<T>::value) {
          ASSERT_EQ(rule, MergeRule::kSatSum);
          for (size_t i = 0; i < expected.size(); ++i) expected[i] += b0[i];
        } else if constexpr (!kNested<T>) {
          ASSERT_EQ(rule, MergeRule::kSketch);
          expected.Merge(b0);
        }
        EXPECT_EQ(Bytes(merged), Bytes(expected));
      },
      a, before, b);
  EXPECT_EQ(fields, 82u);  // the table's length: update with the table

  // The Custom fields: b stands for a cluster (members > 1), a has requests.
  EXPECT_EQ(a.fresh_members, before.fresh_members + b.fresh_members);
  EXPECT_EQ(a.rotating_members, before.rotating_members + b.rotating_members);
  EXPECT_EQ(a.first_ts, std::min(before.first_ts, b.first_ts));
  ASSERT_NE(before.asn_candidate, b.asn_candidate);
  ASSERT_GT(b.asn_votes, before.asn_votes);
  EXPECT_EQ(a.asn_candidate, b.asn_candidate);
  EXPECT_EQ(a.asn_votes, b.asn_votes - before.asn_votes);
}

TEST(AccountStateFieldsTest, SaveLoadRoundTripsEveryField) {
  AccountState a, b;
  FillPair(a, b);
  std::string bytes;
  Writer w(bytes);
  a.Save(w);
  AccountState c;
  Reader r(bytes);
  ASSERT_TRUE(c.Load(r));
  EXPECT_TRUE(r.done());
  std::string again;
  Writer w2(again);
  c.Save(w2);
  EXPECT_EQ(bytes, again);
  // Truncated input fails rather than reading past the end.
  for (size_t cut : {size_t{0}, size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    AccountState d;
    Reader rt(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(d.Load(rt)) << cut;
  }
}

TEST(AccountStateFieldsTest, FingerprintIsStable) {
  EXPECT_NE(AccountState::LayoutFingerprint(), 0u);
  EXPECT_EQ(AccountState::LayoutFingerprint(), AccountState::LayoutFingerprint());
}

}  // namespace
}  // namespace dg::state
