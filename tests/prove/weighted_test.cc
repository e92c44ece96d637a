// The count-weighted KGW statistic: weight functions, tuple counting, and the exact null law of a
// weighted Bernoulli sum against brute-force enumeration, the binomial tail and Chernoff's bound.
#include "prove/weighted.h"

#include <gtest/gtest.h>

#include <cmath>

#include "prove/kgw.h"
#include "prove/stats.h"

namespace dg::prove {
namespace {

TEST(CountWeight, Values) {
  EXPECT_EQ(WeightOf(CountWeight::kOne, 7), 1);
  EXPECT_EQ(WeightOf(CountWeight::kLog2, 1), 1);
  EXPECT_EQ(WeightOf(CountWeight::kLog2, 2), 2);
  EXPECT_EQ(WeightOf(CountWeight::kLog2, 3), 2);
  EXPECT_EQ(WeightOf(CountWeight::kLog2, 4), 3);
  EXPECT_EQ(WeightOf(CountWeight::kLog2, 1000), 10);
  EXPECT_EQ(WeightOf(CountWeight::kSqrt, 1), 1);
  EXPECT_EQ(WeightOf(CountWeight::kSqrt, 4), 2);
  EXPECT_EQ(WeightOf(CountWeight::kSqrt, 5), 3);
  EXPECT_EQ(WeightOf(CountWeight::kCap4, 9), 4);
  EXPECT_EQ(WeightOf(CountWeight::kCap4, 0), 0);
}

TEST(TupleCounter, CountsDistinctTuplesAcrossTexts) {
  KgwScheme kgw(kHfKgwHashingKey, 100, 0.25);
  TupleCounter c(kgw);
  const std::vector<int64_t> a = {1, 2, 3, 1, 2}, b = {1, 2, 9};
  c.AddText(a);
  c.AddText(b);
  // (1,2) x3, (2,3), (3,1), (2,9): the first token of each text has no window.
  ASSERT_EQ(c.entries().size(), 4u);
  EXPECT_EQ(c.entries()[0].count, 3);
  EXPECT_EQ(WeightClasses(c.entries(), CountWeight::kLog2), (std::vector<int64_t>{0, 3, 1}));
  FingerprintSet allowed = {WindowPrint(std::vector<int64_t>{2})};
  TupleCounter r(kgw);
  r.RestrictWindows(&allowed);
  r.AddText(a);
  r.AddText(b);
  EXPECT_EQ(r.entries().size(), 2u);  // (2,3) and (2,9)
}

TEST(WeightedBernoulliLaw, MatchesBruteForce) {
  // Weights 1 x3, 2 x2, 5 x1: enumerate all 2^6 outcomes.
  const std::vector<int64_t> n = {0, 3, 2, 0, 0, 1};
  const std::vector<int64_t> w = {1, 1, 1, 2, 2, 5};
  const double p = 0.25;
  WeightedBernoulliLaw law(n, p);
  EXPECT_EQ(law.max_sum(), 12);
  std::vector<double> pmf(13, 0.0);
  for (int mask = 0; mask < 64; ++mask) {
    int s = 0, ones = 0;
    for (int i = 0; i < 6; ++i)
      if (mask >> i & 1) s += static_cast<int>(w[static_cast<size_t>(i)]), ++ones;
    pmf[static_cast<size_t>(s)] += std::pow(p, ones) * std::pow(1 - p, 6 - ones);
  }
  double tail = 0;
  for (int s = 12; s >= 1; --s) {
    tail += pmf[static_cast<size_t>(s)];
    EXPECT_NEAR(std::exp(law.LogUpperTail(s)), tail, 1e-12 * tail + 1e-290) << s;
    EXPECT_GE(law.LogChernoff(s), std::log(tail) - 1e-9) << s;  // a bound, never below
  }
  EXPECT_EQ(law.LogUpperTail(13), -std::numeric_limits<double>::infinity());
}

TEST(WeightedBernoulliLaw, AllWeightsOneIsTheBinomial) {
  for (int64_t n : {10, 500, 20000}) {
    WeightedBernoulliLaw law({0, n}, 0.25);
    for (double z : {0.5, 2.0, 5.0, 12.0}) {
      const auto k = static_cast<int64_t>(0.25 * n + z * std::sqrt(0.1875 * n));
      if (k > n) continue;
      const double want = LogBinomialUpperTail(n, k, 0.25);
      EXPECT_NEAR(law.LogUpperTail(k), want, 1e-9 * std::abs(want) + 1e-9) << n << " " << k;
    }
  }
}

TEST(WeightedBernoulliLaw, DeepTailsFallBackToChernoff) {
  // Far beyond 1e-300 the exact table has nothing left: the Chernoff bound is returned and is
  // finite, and above the binomial's true value.
  WeightedBernoulliLaw law({0, 10000}, 0.25);
  const double got = law.LogUpperTail(6000), exact = LogBinomialUpperTail(10000, 6000, 0.25);
  EXPECT_LT(Log10(exact), -300);
  EXPECT_GE(got, exact);
  EXPECT_LT(got, exact + std::log(1e4));
}

TEST(HypergeometricSumLaw, MatchesEnumerationOfGreenLists) {
  // V = 8, G = 3: two windows with 3 and 2 distinct scored tokens. Every pair of green lists
  // (C(8,3)^2 = 3136 equally likely) is enumerated; tokens 0..m-1 are the scored ones.
  const int64_t v = 8, g = 3;
  std::vector<int> subsets;
  for (int mask = 0; mask < 256; ++mask)
    if (__builtin_popcount(static_cast<unsigned>(mask)) == g) subsets.push_back(mask);
  std::vector<double> pmf(6, 0.0);
  for (int a : subsets)
    for (int b : subsets)
      pmf[static_cast<size_t>(__builtin_popcount(static_cast<unsigned>(a & 7)) +
                              __builtin_popcount(static_cast<unsigned>(b & 3)))] += 1.0;
  HypergeometricSumLaw law({3, 2}, v, g);
  EXPECT_EQ(law.tuples(), 5);
  double tail = 0;
  for (int s = 5; s >= 1; --s) {
    tail += pmf[static_cast<size_t>(s)] / static_cast<double>(subsets.size() * subsets.size());
    EXPECT_NEAR(std::exp(law.LogUpperTail(s)), tail, 1e-12) << s;
  }
  EXPECT_EQ(law.LogUpperTail(6), -std::numeric_limits<double>::infinity());
}

TEST(HypergeometricSumLaw, ThinnerTailThanTheBinomialAndEqualForSingletons) {
  // One token per window: each is a Bernoulli(G/V), the sum exactly binomial.
  WeightedBernoulliLaw bin({0, 400}, 2048.0 / 8192);
  HypergeometricSumLaw single(std::vector<int64_t>(400, 1), 8192, 2048);
  for (int64_t s : {110, 130, 160})
    EXPECT_NEAR(single.LogUpperTail(s), bin.LogUpperTail(s), 1e-7 * std::abs(bin.LogUpperTail(s)));
  // 40 windows with 100 tokens each: smaller variance, so a smaller tail far out.
  HypergeometricSumLaw wide(std::vector<int64_t>(40, 100), 1000, 250);
  const double b = LogBinomialUpperTail(4000, 1200, 0.25), h = wide.LogUpperTail(1200);
  EXPECT_LT(h, b);
  EXPECT_GT(h, b - std::log(1e6));
}

}  // namespace
}  // namespace dg::prove
