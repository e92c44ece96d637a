// NameTable: names survive table growth, first name wins, caps and truncation, Sorted order.
#include "core/names.h"

#include <gtest/gtest.h>

#include <string>

namespace dg::engine {
namespace {

TEST(NameTable, KeepsEveryNameThroughGrowth) {
  NameTable t;
  constexpr uint64_t kN = 50'000;  // several doublings of the slot table and arena blocks
  for (uint64_t i = 0; i < kN; ++i) {
    t.Insert(NameKind::kAccount, i * 0x9E3779B97F4A7C15ULL, "acct_" + std::to_string(i));
  }
  EXPECT_EQ(t.size(NameKind::kAccount), kN);
  for (uint64_t i = 0; i < kN; i += 997) {
    EXPECT_EQ(t.Get(NameKind::kAccount, i * 0x9E3779B97F4A7C15ULL), "acct_" + std::to_string(i));
  }
  EXPECT_EQ(t.size(NameKind::kEndUser), 0u);  // kinds are separate
  EXPECT_FALSE(t.Has(NameKind::kEndUser, 0x9E3779B97F4A7C15ULL));
}

TEST(NameTable, FirstNameWinsAndUnknownShowsAsHash) {
  NameTable t;
  t.Insert(NameKind::kUserAgent, 0, "zero-hash agent");  // hash 0 is a valid key
  t.Insert(NameKind::kUserAgent, 0, "other");
  t.Insert(NameKind::kUserAgent, 7, "");  // empty names are ignored
  EXPECT_EQ(t.Get(NameKind::kUserAgent, 0), "zero-hash agent");
  EXPECT_FALSE(t.Has(NameKind::kUserAgent, 7));
  EXPECT_EQ(t.Get(NameKind::kUserAgent, 0xabc), "#0000000000000abc");
}

TEST(NameTable, CapAndTruncation) {
  NameTable t(/*cap_per_kind=*/3);
  for (uint64_t i = 1; i <= 5; ++i) t.Insert(NameKind::kModel, i, "m" + std::to_string(i));
  EXPECT_EQ(t.size(NameKind::kModel), 3u);
  EXPECT_FALSE(t.Has(NameKind::kModel, 5));
  const std::string big(3 * NameTable::kMaxNameBytes, 'x');
  t.Insert(NameKind::kPayment, 1, big);
  EXPECT_EQ(t.Get(NameKind::kPayment, 1).size(), NameTable::kMaxNameBytes);
}

TEST(NameTable, SortedByHash) {
  NameTable t;
  t.Insert(NameKind::kAsn, 30, "c");
  t.Insert(NameKind::kAsn, 10, "a");
  t.Insert(NameKind::kAsn, 20, "b");
  const auto s = t.Sorted(NameKind::kAsn);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], (std::pair<uint64_t, std::string>{10, "a"}));
  EXPECT_EQ(s[2], (std::pair<uint64_t, std::string>{30, "c"}));
}

}  // namespace
}  // namespace dg::engine
