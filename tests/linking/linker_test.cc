// Linker on crafted cases: which shared indicators link two accounts, singleton member lists,
// and the one-pass SharedByAll agreeing with SharedBy.
#include "linking/linker.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "state/account_state.h"

namespace dg::linking {
namespace {

TEST(LinkerTest, AsnLinksNothingByDefault) {
  Linker l;
  const uint32_t a = l.AddAccount(), b = l.AddAccount();
  for (uint32_t x : {a, b}) {
    l.Post(x, kAsn, 64500);
    l.Post(x, kIpPrefix, 7);
    l.Post(x, kClientStack, 9);
  }
  EXPECT_NE(l.Find(a), l.Find(b));
  EXPECT_EQ(l.pairs(), 1u);  // the /24 and client stack pair; the ASN adds no pair entry
  // Yet the shared ASN is on record for evidence once the accounts are linked otherwise.
  l.Post(a, kPayment, 1);
  l.Post(b, kPayment, 1);
  ASSERT_EQ(l.Find(a), l.Find(b));
  bool asn = false;
  for (const auto& sv : l.SharedBy(l.Find(a))) asn = asn || sv.kind == kAsn;
  EXPECT_TRUE(asn);
}

// IdentityTie: how strongly an account is tied by identity to another member of its cluster.
// A shared card ties; an agent set links the same way but is behaviour and ties nothing; a value
// weighs at today's holder count, so a card later shared by many ties less than it linked.
TEST(LinkerTest, IdentityTieCountsIdentityValuesAtTodaysHolders) {
  Linker l;
  const uint32_t a = l.AddAccount(), b = l.AddAccount(), c = l.AddAccount(), d = l.AddAccount();
  const std::pair<IndicatorKind, uint64_t> card{kPayment, 11}, agents{kAgentSet, 22};
  l.Post(a, kPayment, 11);
  l.Post(b, kPayment, 11);
  ASSERT_EQ(l.Find(a), l.Find(b));
  EXPECT_DOUBLE_EQ(l.IdentityTie(a, {&card, 1}), 1.0);
  // c, flagged like a, is linked to a by the agent set they rotate alone (behaviour links
  // suspects only): same cluster, no identity tie.
  l.Post(a, kAgentSet, 22, /*suspect=*/true);
  l.Post(c, kAgentSet, 22, /*suspect=*/true);
  ASSERT_EQ(l.Find(a), l.Find(c));
  EXPECT_EQ(l.IdentityTie(c, {&agents, 1}), 0.0);
  // d holds nothing a holds: no tie, whatever it posts.
  EXPECT_EQ(l.IdentityTie(d, {&card, 1}), 0.0);
  // Forty more accounts pay with the card: each share of it now weighs sqrt(20 / 42).
  for (int i = 0; i < 40; ++i) l.Post(l.AddAccount(), kPayment, 11);
  const double tie = l.IdentityTie(a, {&card, 1});
  EXPECT_LT(tie, 1.0);
  EXPECT_NEAR(tie, std::sqrt(20.0 / 42.0), 1e-9);
}

LinkerOptions WithAsnWeight() {
  LinkerOptions o;
  o.kind_weight[kAsn] = 0.3;
  return o;
}

TEST(LinkerTest, WeightedAsnAloneNeverLinksButAddsToOtherEvidence) {
  Linker l(WithAsnWeight());
  const uint32_t a = l.AddAccount(), b = l.AddAccount(), c = l.AddAccount(), d = l.AddAccount();
  l.Post(a, kAsn, 64500);
  l.Post(b, kAsn, 64500);
  EXPECT_NE(l.Find(a), l.Find(b));  // one small ASN in common: not one operator
  // Same ASN, same /24 and the same client stack: together rare enough.
  for (uint32_t x : {c, d}) {
    l.Post(x, kAsn, 64501);
    l.Post(x, kIpPrefix, 7);
    l.Post(x, kClientStack, 9);
  }
  EXPECT_EQ(l.Find(c), l.Find(d));
  // Without the ASN the /24 and client stack fall short.
  Linker m(WithAsnWeight());
  const uint32_t e = m.AddAccount(), f = m.AddAccount();
  for (uint32_t x : {e, f}) {
    m.Post(x, kIpPrefix, 7);
    m.Post(x, kClientStack, 9);
  }
  EXPECT_NE(m.Find(e), m.Find(f));
}

TEST(LinkerTest, WeightedPopularAsnLinksNothing) {
  // Two accounts share a /24 and a client stack (0.9, short of the threshold) and an ASN. A
  // small ASN tips them over; a cloud ASN that many accounts already use adds nothing.
  auto linked = [](int others_on_asn) {
    Linker l(WithAsnWeight());
    for (int i = 0; i < others_on_asn; ++i) l.Post(l.AddAccount(), kAsn, 16509);
    const uint32_t a = l.AddAccount(), b = l.AddAccount();
    for (uint32_t x : {a, b}) {
      l.Post(x, kIpPrefix, 7);
      l.Post(x, kClientStack, 9);
      l.Post(x, kAsn, 16509);
    }
    return l.Find(a) == l.Find(b);
  };
  EXPECT_TRUE(linked(0));
  EXPECT_FALSE(linked(100));
}

TEST(LinkerTest, SingletonsAndMergedMembers) {
  Linker l;
  const uint32_t a = l.AddAccount(), b = l.AddAccount(), c = l.AddAccount();
  ASSERT_EQ(l.Members(c).size(), 1u);
  EXPECT_EQ(l.Members(c)[0], c);
  l.Post(b, kPayment, 5);
  l.Post(a, kPayment, 5);
  const uint32_t root = l.Find(a);
  EXPECT_EQ(root, a);  // the smaller index is the root
  ASSERT_EQ(l.Members(root).size(), 2u);
  EXPECT_EQ(l.Members(root)[0], a);
  EXPECT_EQ(l.Members(root)[1], b);
  EXPECT_TRUE(l.Members(b).empty());  // not a root
  const auto all = l.SharedByAll();
  ASSERT_EQ(all.size(), 1u);
  const auto one = l.SharedBy(root);
  ASSERT_EQ(all.at(root).size(), one.size());
  EXPECT_EQ(one[0].kind, kPayment);
  EXPECT_EQ(all.at(root)[0].in, one[0].in);
}

// Early in a stream few accounts have posted anything, so a count of holders makes common
// values look rare: two of the first accounts sharing an email domain, a client stack and a
// system prompt that half of them use are not linked (each value is weighed by its share of the
// accounts posting its kind, against at least prevalence_floor of them); counted by holders
// alone they would be. A shared card still links at once.
TEST(LinkerTest, PrevalenceKeepsEarlyCommonValuesWeak) {
  auto run = [](const LinkerOptions& o, bool* card_linked) {
    Linker l(o);
    std::vector<uint32_t> acc;
    for (int i = 0; i < 10; ++i) acc.push_back(l.AddAccount());
    for (int i = 0; i < 10; ++i) {
      l.Post(acc[i], kEmailDomain, i % 2 ? 11 : 12);
      l.Post(acc[i], kClientStack, i % 2 ? 21 : 22);
      l.Post(acc[i], kSystemPrompt, i % 2 ? 31 : 32);
    }
    const uint32_t c = l.AddAccount(), d = l.AddAccount();
    l.Post(c, kPayment, 77);
    l.Post(d, kPayment, 77);
    *card_linked = l.Find(c) == l.Find(d);
    return l.Find(acc[1]) == l.Find(acc[3]);
  };
  bool card = false;
  EXPECT_FALSE(run(LinkerOptions{}, &card));
  EXPECT_TRUE(card);
  LinkerOptions counts_only;
  counts_only.share_pivot.fill(0);
  EXPECT_TRUE(run(counts_only, &card));
  EXPECT_TRUE(card);
}

// A parameter profile links flagged accounts only. Quiet holders (not flagged) count for its
// rarity but are never linked, not to each other and not to a suspect; an account that is
// flagged later posts again and links with the suspects before it, without being counted twice.
TEST(LinkerTest, SuspectsOnlyKindLinksFlaggedHoldersAndCountsEveryone) {
  Linker l;
  std::vector<uint32_t> acc;
  for (int i = 0; i < 6; ++i) acc.push_back(l.AddAccount());
  l.Post(acc[0], kParamProfile, 5);  // quiet
  l.Post(acc[1], kParamProfile, 5);  // quiet
  EXPECT_NE(l.Find(acc[0]), l.Find(acc[1])) << "unflagged holders are not linked";
  l.Post(acc[2], kParamProfile, 5, /*suspect=*/true);
  EXPECT_EQ(l.ClusterSize(acc[2]), 1u) << "a suspect is not linked to quiet holders";
  l.Post(acc[3], kParamProfile, 5, /*suspect=*/true);
  EXPECT_EQ(l.Find(acc[2]), l.Find(acc[3]));
  l.Post(acc[0], kParamProfile, 5, /*suspect=*/true);  // flagged later
  EXPECT_EQ(l.Find(acc[0]), l.Find(acc[2]));
  EXPECT_NE(l.Find(acc[1]), l.Find(acc[2]));
  l.Post(acc[1], kParamProfile, 5);  // again quiet: a no-op
  auto shared = l.SharedBy(l.Find(acc[2]));
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].holders, 4u) << "every holder counted once";
  EXPECT_EQ(shared[0].in.size(), 3u) << "evidence names the linked holders only";

  // A profile many accounts hold links no one, flagged or not.
  Linker m;
  std::vector<uint32_t> many;
  for (int i = 0; i < 40; ++i) {
    many.push_back(m.AddAccount());
    m.Post(many.back(), kParamProfile, 9);
  }
  const uint32_t x = m.AddAccount(), y = m.AddAccount();
  m.Post(x, kParamProfile, 9, true);
  m.Post(y, kParamProfile, 9, true);
  EXPECT_NE(m.Find(x), m.Find(y));
  // Other kinds link whether or not their holders are suspects.
  m.Post(many[0], kPayment, 3);
  m.Post(many[1], kPayment, 3);
  EXPECT_EQ(m.Find(many[0]), m.Find(many[1]));
}

// Behaviour groups only accounts each flagged on its own: with the default options every
// behaviour kind (agent sets, parameter profiles) is suspects-only. Ten companies whose developers
// rotate the same four SDK versions hold one agent set and stay ten cases; two flagged accounts
// of a script rotating that list are linked by it.
TEST(LinkerTest, BehaviourKindsLinkOnlyFlaggedAccountsByDefault) {
  const LinkerOptions o;
  for (int k = 0; k < kIndicatorKinds; ++k) {
    const auto kind = static_cast<IndicatorKind>(k);
    EXPECT_EQ(o.suspects_only[kind], Behaviour(kind)) << IndicatorName(kind);
  }
  Linker l;
  std::vector<uint32_t> companies;
  for (int i = 0; i < 10; ++i) {
    companies.push_back(l.AddAccount());
    l.Post(companies.back(), kAgentSet, 77);
  }
  for (uint32_t c : companies) EXPECT_EQ(l.ClusterSize(c), 1u);
  const uint32_t a = l.AddAccount(), b = l.AddAccount();
  l.Post(a, kAgentSet, 77, /*suspect=*/true);
  l.Post(b, kAgentSet, 77, /*suspect=*/true);
  EXPECT_EQ(l.Find(a), l.Find(b));
  EXPECT_EQ(l.ClusterSize(a), 2u) << "the quiet holders stay apart";
}

TEST(AsnVoteTest, MajorityAsnIsTheCandidate) {
  state::AccountState s;
  core::EventRecord r{};
  const uint64_t asns[] = {11, 12, 11, 13, 11, 11, 14, 11};  // 11 holds 5 of 8
  for (uint64_t asn : asns) {
    r.asn = asn;
    s.Update(r);
  }
  EXPECT_EQ(s.asn_candidate, 11u);
  EXPECT_GE(s.asn_votes, 1u);
  state::AccountState t;
  for (int i = 0; i < 6; ++i) {
    r.asn = 20;
    t.Update(r);
  }
  s.Combine(t);  // 20 holds 6 of 14: no majority; the vote keeps a bound, not a claim
  EXPECT_LE(s.asn_votes, 6u);
}

}  // namespace
}  // namespace dg::linking
