// vLLM Gumbel watermark: Philox known answers, vLLM's own PRF vectors, and detection power and
// calibration on synthetic text.
#include "prove/vllm_gumbel.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "prove/detect.h"
#include "prove/stats.h"
#include "synth.h"

namespace dg::prove {
namespace {

TEST(Philox, Random123KnownAnswers) {
  using A4 = std::array<uint32_t, 4>;
  EXPECT_EQ(Philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(Philox4x32_10({~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}),
            (A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(
      Philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      (A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

// vLLM tests/watermarking/test_prf.py: PhiloxPRF(42).uint32([[1,2,3,4],[4,5,6,7]], [7,8]).
TEST(VllmPrf, RawWordCompatibilityVector) {
  const std::vector<int64_t> c0 = {1, 2, 3, 4}, c1 = {4, 5, 6, 7};
  EXPECT_EQ(VllmPhiloxWord(42, c0, 7), 425429266u);
  EXPECT_EQ(VllmPhiloxWord(42, c0, 8), 2706218805u);
  EXPECT_EQ(VllmPhiloxWord(42, c1, 7), 2494036831u);
  EXPECT_EQ(VllmPhiloxWord(42, c1, 8), 3424185538u);
}

// Same file: uniform() = float32((mantissa + 1) / (2^24 + 1)) with these mantissas.
TEST(VllmPrf, UniformCompatibilityVector) {
  const std::vector<int64_t> c0 = {1, 2, 3, 4}, c1 = {4, 5, 6, 7};
  auto expect = [](double m) { return static_cast<float>((m + 1) / (16777216.0 + 1)); };
  EXPECT_EQ(VllmUniform(VllmPhiloxWord(42, c0, 7)), expect(1661833));
  EXPECT_EQ(VllmUniform(VllmPhiloxWord(42, c0, 8)), expect(10571167));
  EXPECT_EQ(VllmUniform(VllmPhiloxWord(42, c1, 7)), expect(9742331));
  EXPECT_EQ(VllmUniform(VllmPhiloxWord(42, c1, 8)), expect(13375724));
  EXPECT_GT(VllmUniform(0), 0.0f);
  EXPECT_LT(VllmUniform(0xFFFFFFFFu), 1.0f);
}

std::vector<int64_t> SplitInts(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoll(item));
  return out;
}

// Widths 1, 3, 4, 6 and 16 (several absorbed blocks), 64-bit keys, tokens in all four output
// words and at 2^32 - 1: words from vLLM's own PRF code (see the data file's header).
TEST(VllmPrf, MatchesUpstreamVectorsAcrossWidthsAndKeys) {
  std::ifstream in(std::string(DG_SOURCE_DIR) + "/tests/prove/data/vllm_philox_vectors.tsv");
  ASSERT_TRUE(in);
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string key, ctx, toks, words;
    std::getline(ss, key, '\t');
    std::getline(ss, ctx, '\t');
    std::getline(ss, toks, '\t');
    std::getline(ss, words, '\t');
    const uint64_t k = std::stoull(key);
    auto c = SplitInts(ctx), t = SplitInts(toks), w = SplitInts(words);
    ASSERT_EQ(t.size(), w.size()) << line;
    for (size_t i = 0; i < t.size(); ++i) {
      EXPECT_EQ(VllmPhiloxWord(k, c, t[i]), static_cast<uint32_t>(w[i]))
          << line << " token " << t[i];
    }
    ++cases;
  }
  EXPECT_EQ(cases, 6);
}

TEST(VllmPrf, DependsOnKeyContextTokenAndWidth) {
  const std::vector<int64_t> c = {-1, -1, 7}, c2 = {-1, -1, 8}, c4 = {-1, -1, -1, 7};
  const uint32_t w = VllmPhiloxWord(42, c, 5);
  EXPECT_NE(w, VllmPhiloxWord(43, c, 5));
  EXPECT_NE(w, VllmPhiloxWord(42, c2, 5));
  EXPECT_NE(w, VllmPhiloxWord(42, c, 6));
  EXPECT_NE(w, VllmPhiloxWord(42, c4, 5));
  EXPECT_NE(w, VllmPhiloxWord(42ull | (1ull << 40), c, 5));  // the key's high word counts
  // Widths beyond one Philox block (5..8 tokens) are absorbed too.
  std::vector<int64_t> long1 = {1, 2, 3, 4, 5, 6}, long2 = {1, 2, 3, 4, 5, 7};
  EXPECT_NE(VllmPhiloxWord(42, long1, 9), VllmPhiloxWord(42, long2, 9));
}

TEST(VllmGumbel, WatermarkedTextIsDetectedAndWrongKeyIsNot) {
  synth::BigramLm lm(64, 7);
  std::mt19937_64 rng(11);
  const uint64_t key = 0xDEADBEEFCAFEull;
  auto text = synth::Generate(lm, 400, rng, &key);
  VllmGumbelScheme right(key, 4), wrong(key + 1, 4);
  Accumulator a(right, Dedup::kPair), b(wrong, Dedup::kPair);
  Tally ta = a.AddText(text), tb = b.AddText(text);
  EXPECT_GT(ta.scored, 250);  // 400 tokens, a few repeated tuples
  EXPECT_LT(a.Log10P(ta), -10.0);
  EXPECT_GT(b.Log10P(tb), -3.0);
}

TEST(VllmGumbel, PValuesOfUnwatermarkedTextAreRoughlyUniform) {
  synth::BigramLm lm(64, 3);
  std::mt19937_64 rng(5);
  int below_5pct = 0, below_half = 0;
  const int kTrials = 300;
  for (int i = 0; i < kTrials; ++i) {
    auto text = synth::Generate(lm, 120, rng);
    VllmGumbelScheme s(1000 + i, 4);
    Accumulator acc(s, Dedup::kPair);
    double p = std::pow(10.0, acc.Log10P(acc.AddText(text)));
    below_5pct += p < 0.05;
    below_half += p < 0.5;
  }
  // Binomial(300, 0.05): mean 15, sd 3.8; Binomial(300, 0.5): mean 150, sd 8.7.
  EXPECT_GE(below_5pct, 3);
  EXPECT_LE(below_5pct, 30);
  EXPECT_GE(below_half, 120);
  EXPECT_LE(below_half, 180);
}

}  // namespace
}  // namespace dg::prove
