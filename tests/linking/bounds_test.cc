// The link graph cannot grow without bound: posting lists stop at their cap, the pair table at
// max_pairs, clusters at max_cluster, whatever the input.
#include <gtest/gtest.h>

#include "common/rng.h"
#include "linking/linker.h"

namespace dg::linking {
namespace {

TEST(LinkerBoundsTest, AdversarialSharingStaysWithinCaps) {
  LinkerOptions opt;
  opt.max_pairs = 50'000;
  opt.max_cluster = 500;
  Linker l(opt);
  Rng rng(3);
  const uint32_t n = 20'000;
  for (uint32_t i = 0; i < n; ++i) l.AddAccount();
  // Everyone shares a few very popular values and many small groups share rare ones.
  for (uint32_t a = 0; a < n; ++a) {
    l.Post(a, kEmailDomain, 1);                      // one domain for all
    l.Post(a, kClientStack, 2 + rng.Below(3));       // three SDKs
    l.Post(a, kIpPrefix, 100 + a / 40);              // /24s of 40 accounts
    l.Post(a, kPayment, 100000 + a / 3);             // cards shared by 3
    l.Post(a, kTemplate, 200000 + rng.Below(2000));  // templates of ~10 accounts
  }
  EXPECT_LE(l.pairs(), opt.max_pairs);
  EXPECT_LE(l.posting_entries(), l.values() * 500);  // no list beyond the largest kind cap
  EXPECT_LE(l.posting_entries(), static_cast<size_t>(n) * 5);
  uint32_t largest = 0;
  for (uint32_t a = 0; a < n; ++a) largest = std::max(largest, l.ClusterSize(a));
  EXPECT_LE(largest, opt.max_cluster);
}

TEST(LinkerBoundsTest, PopularValueListIsFreedOnceCommon) {
  Linker l;
  for (int i = 0; i < 1000; ++i) l.Post(l.AddAccount(), kEmailDomain, 42);
  EXPECT_EQ(l.posting_entries(), 0u);  // beyond the cap the value's list is dropped
  EXPECT_EQ(l.values(), 1u);
}

}  // namespace
}  // namespace dg::linking
