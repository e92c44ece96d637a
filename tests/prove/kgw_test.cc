// Hugging Face KGW: green-list construction (MT19937 + forward Fisher-Yates, as PyTorch's CPU
// randperm), and the exact binomial test's power and calibration on synthetic text.
#include "prove/kgw.h"

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "prove/detect.h"
#include "synth.h"

namespace dg::prove {
namespace {

TEST(Kgw, Mt19937IsTheStandardGenerator) {
  std::mt19937 mt(5489u);
  mt.discard(9999);
  EXPECT_EQ(mt(), 4123659995u);  // the C++ standard's check value
}

TEST(Kgw, GreenlistSizeIsPythonInt) {
  EXPECT_EQ(KgwGreenlistSize(50257, 0.25), 12564);
  EXPECT_EQ(KgwGreenlistSize(32000, 0.25), 8000);
  EXPECT_EQ(KgwGreenlistSize(10, 0.25), 2);
}

TEST(Kgw, GreenlistIsThePrefixOfAFullForwardFisherYates) {
  const int64_t v = 1000, g = KgwGreenlistSize(v, 0.25);
  for (int64_t prev : {0, 1, 17, 999}) {
    std::mt19937 mt(static_cast<uint32_t>(kHfKgwHashingKey * static_cast<uint64_t>(prev)));
    std::vector<int64_t> r(v);
    std::iota(r.begin(), r.end(), 0);
    for (int64_t i = 0; i < v - 1; ++i)
      std::swap(r[i], r[i + static_cast<int64_t>(mt()) % (v - i)]);
    auto green = KgwGreenlist(kHfKgwHashingKey, prev, v, g);
    ASSERT_EQ(static_cast<int64_t>(green.size()), g);
    for (int64_t i = 0; i < g; ++i) EXPECT_EQ(green[i], r[i]) << prev << " " << i;
  }
}

TEST(Kgw, GreenlistsAreDistinctSetsThatDependOnPrevAndKey) {
  auto a = KgwGreenlist(kHfKgwHashingKey, 5, 500, 125);
  auto b = KgwGreenlist(kHfKgwHashingKey, 6, 500, 125);
  auto c = KgwGreenlist(kHfKgwHashingKey + 2, 5, 500, 125);
  EXPECT_EQ(std::set<uint32_t>(a.begin(), a.end()).size(), 125u);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a, KgwGreenlist(kHfKgwHashingKey, 5, 500, 125));
  for (uint32_t id : a) EXPECT_LT(id, 500u);
}

// Green lists computed by PyTorch itself (Debian python3-torch 1.13.1, torch.__version__
// "1.13.0a0") with tools/prove/kgw_torch_vectors.py, checked in: ids in order, bit for bit.
TEST(Kgw, MatchesPyTorchVectors) {
  std::ifstream in(std::string(DG_SOURCE_DIR) + "/tests/prove/data/kgw_torch_vectors.tsv");
  ASSERT_TRUE(in) << "tests/prove/data/kgw_torch_vectors.tsv";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string version, first;
    int64_t vocab, prev, size;
    double gamma;
    uint64_t key, fnv;
    ss >> version >> vocab >> gamma >> key >> prev >> size >> fnv >> first;
    ASSERT_FALSE(ss.fail()) << line;
    EXPECT_EQ(KgwGreenlistSize(vocab, gamma), size) << line;
    auto green = KgwGreenlist(key, prev, vocab, size);
    uint64_t h = 0xCBF29CE484222325ull;
    for (uint32_t id : green) {
      for (int b = 0; b < 4; ++b) {
        h ^= (id >> (8 * b)) & 0xFF;
        h *= 0x100000001B3ull;
      }
    }
    EXPECT_EQ(h, fnv) << line;
    std::string got;
    for (size_t i = 0; i < 16; ++i) got += (i ? "," : "") + std::to_string(green[i]);
    EXPECT_EQ(got, first) << line;
    ++cases;
  }
  EXPECT_EQ(cases, 10);
}

// A text that always picks a green token is detected at overwhelming significance.
TEST(Kgw, AlwaysGreenTextIsDetected) {
  const int64_t v = 2000;
  KgwScheme s(kHfKgwHashingKey, v, 0.25);
  std::mt19937_64 rng(3);
  std::vector<int64_t> text = {static_cast<int64_t>(rng() % v)};
  for (int i = 0; i < 200; ++i) {
    auto green = KgwGreenlist(kHfKgwHashingKey, text.back(), v, s.greenlist_size());
    text.push_back(green[rng() % green.size()]);
  }
  Accumulator acc(s, Dedup::kPair);
  Tally t = acc.AddText(text);
  EXPECT_EQ(t.scored, 200);       // the first token has no previous token
  EXPECT_EQ(t.statistic, 200.0);  // all green
  EXPECT_LT(acc.Log10P(t), -100.0);
  // Another hashing key sees about a quarter green and no evidence.
  KgwScheme other(kHfKgwHashingKey + 1, v, 0.25);
  Accumulator acc2(other, Dedup::kPair);
  Tally t2 = acc2.AddText(text);
  EXPECT_GT(acc2.Log10P(t2), -3.0);
  EXPECT_NEAR(t2.statistic / t2.scored, 0.25, 0.1);
}

TEST(Kgw, PValuesOfRandomTextAreRoughlyUniform) {
  const int64_t v = 300;
  std::mt19937_64 rng(9);
  int below_5pct = 0, below_half = 0;
  const int kTrials = 200;
  for (int i = 0; i < kTrials; ++i) {
    KgwScheme s(kHfKgwHashingKey + 2 * i, v, 0.25);
    Accumulator acc(s, Dedup::kPair);
    double p = std::pow(10.0, acc.Log10P(acc.AddText(synth::UniformText(v, 150, rng))));
    below_5pct += p < 0.05;
    below_half += p < 0.5;
  }
  // The binomial tail P[X >= k] is discrete, hence slightly conservative: at most ~5% below 5%.
  EXPECT_GE(below_5pct, 1);
  EXPECT_LE(below_5pct, 20);
  EXPECT_GE(below_half, 70);
  EXPECT_LE(below_half, 115);
}

}  // namespace
}  // namespace dg::prove
