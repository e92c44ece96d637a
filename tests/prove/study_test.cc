// The end-to-end forensics study and its parts: the exact KS test, the Kneser-Ney n-gram model,
// the reference samplers (vLLM Gumbel, HF KGW) over it, and a small run of `prove simulate` on
// the shared corpora (p < 1e-6 at 5% watermarked training data: Gumbel at 300 answers, KGW by its
// exact law at 2,000; uniform p-values at 0% and on human text over 200 keys; the invalid no-dedup
// variant rejected; an innocent model quoting watermarked prompts not flagged by reading mode's
// design).
#include "prove/study.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numeric>

#include "common/rng.h"
#include "prove/detect.h"
#include "prove/generate.h"
#include "prove/kgw.h"
#include "prove/ngram.h"
#include "prove/stats.h"
#include "prove/vllm_gumbel.h"
#include "sim/corpus.h"

namespace dg::prove {
namespace {

// --- Kolmogorov-Smirnov ---

TEST(KolmogorovCdf, ClosedFormsAndPublishedValue) {
  // Marsaglia, Tsang & Wang (2003), section 1: K(10, 0.274) = 0.6284796154565043.
  EXPECT_NEAR(KolmogorovCdf(10, 0.274), 0.6284796154565043, 1e-13);
  for (int64_t n : {1, 2, 5, 20, 100}) {
    const double dn = static_cast<double>(n);
    // d <= 1/(2n): impossible to be below.
    EXPECT_EQ(KolmogorovCdf(n, 0.5 / dn), 0.0);
    // 1/(2n) < d <= 1/n: n! (2d - 1/n)^n.
    const double d1 = 0.75 / dn;
    EXPECT_NEAR(KolmogorovCdf(n, d1),
                std::exp(std::lgamma(dn + 1) + dn * std::log(2 * d1 - 1 / dn)), 1e-12);
    // d >= 1 - 1/n: P(D_n >= d) = 2 (1 - d)^n.
    if (n >= 2) {
      const double d2 = 1 - 0.5 / dn;
      EXPECT_NEAR(1 - KolmogorovCdf(n, d2), 2 * std::pow(1 - d2, dn), 1e-12);
    }
  }
  // The asymptotic Kolmogorov law at n = 1000: P(sqrt(n) D < 1.36) ~ 0.95.
  EXPECT_NEAR(KolmogorovCdf(1000, 1.36 / std::sqrt(1000.0)), 0.95, 0.005);
}

TEST(KsTestUniform, AcceptsUniformRejectsShifted) {
  Rng rng(7);
  std::vector<double> u(200), shifted(200);
  for (auto& x : u) x = rng.Uniform();
  for (auto& x : shifted) x = std::pow(rng.Uniform(), 1.5);  // p-values too small
  const KsResult a = KsTestUniform(u), b = KsTestUniform(shifted);
  EXPECT_EQ(a.n, 200);
  EXPECT_GT(a.p_value, 0.01);
  EXPECT_LT(b.p_value, 1e-3);
  // D is the sup distance: all mass at 0 gives D = 1.
  EXPECT_DOUBLE_EQ(KsTestUniform(std::vector<double>(10, 0.0)).d, 1.0);
  // p-values of the exact Gamma tail over random Exp(1) sums are uniform; of a wrong shape not.
  std::vector<double> right, wrong;
  for (int k = 0; k < 200; ++k) {
    double s = 0;
    for (int i = 0; i < 50; ++i) s += -std::log1p(-rng.Uniform());
    right.push_back(std::exp(LogGammaUpperTail(50, s)));
    wrong.push_back(std::exp(LogGammaUpperTail(45, s)));
  }
  EXPECT_GT(KsTestUniform(right).p_value, 0.01);
  EXPECT_LT(KsTestUniform(wrong).p_value, 1e-3);
}

// --- the n-gram model ---

TEST(SplitWords, LowercasesAndSplitsPunctuation) {
  EXPECT_EQ(SplitWords("Hello, World!  It's 42."),
            (std::vector<std::string>{"hello", ",", "world", "!", "it", "'", "s", "42", "."}));
}

TEST(NgramLm, DistributionIsNormalisedAndMemorisesTopOrder) {
  std::vector<std::vector<std::string>> words = {SplitWords("the cat sat on the mat"),
                                                 SplitWords("the dog sat on the rug"),
                                                 SplitWords("a cat ran to the mat")};
  WordVocab v = WordVocab::Build(words, 64);
  std::vector<std::vector<int64_t>> docs;
  for (int copy = 0; copy < 3; ++copy)  // counts of 3: ordinary discounts, not the tiny-data ones
    for (const auto& w : words) docs.push_back(v.Encode(w));
  NgramLm lm(3, v.size());
  lm.Train(docs);
  std::vector<double> p;
  for (auto ctx : {std::vector<int64_t>{}, v.Encode(SplitWords("the cat")),
                   v.Encode(SplitWords("zebra zebra"))}) {
    lm.Distribution(ctx, &p);
    ASSERT_EQ(p.size(), static_cast<size_t>(v.size()));
    EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-12);
    for (double x : p) EXPECT_GT(x, 0.0);
  }
  // "sat on" was always followed by "the": the trigram dominates.
  lm.Distribution(v.Encode(SplitWords("sat on")), &p);
  EXPECT_GT(p[static_cast<size_t>(v.Id("the"))], 0.5);
  // "on the" -> mat or rug, about equally, far above "dog".
  lm.Distribution(v.Encode(SplitWords("on the")), &p);
  EXPECT_GT(p[static_cast<size_t>(v.Id("mat"))], 5 * p[static_cast<size_t>(v.Id("dog"))]);
  EXPECT_GT(p[static_cast<size_t>(v.Id("rug"))], 5 * p[static_cast<size_t>(v.Id("dog"))]);
}

TEST(TopK, KeepsTheMostProbableRenormalised) {
  std::vector<int64_t> ids;
  std::vector<double> probs;
  TopK({0.1, 0.4, 0.2, 0.3}, 2, &ids, &probs);
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 3}));
  EXPECT_NEAR(probs[0], 4.0 / 7, 1e-12);
  TopK({0.5, 0.5}, 0, &ids, &probs);
  EXPECT_EQ(ids.size(), 2u);
}

// A random bigram-ish model over 200 tokens to drive the samplers.
NgramLm RandomLm(int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<int64_t>> docs;
  for (int d = 0; d < 30; ++d) {  // long documents: the end of text is rarely sampled
    std::vector<int64_t> doc;
    for (int i = 0; i < 2000; ++i) doc.push_back(2 + static_cast<int64_t>(rng.Below(vocab - 2)));
    docs.push_back(doc);
  }
  NgramLm lm(2, vocab);
  lm.Train(docs);
  return lm;
}

TEST(GenerateText, GumbelIsKeyedDetectableAndDeterministic) {
  NgramLm lm = RandomLm(200, 3);
  SamplerOptions o;
  o.kind = SamplerKind::kVllmGumbel;
  o.key = 42;
  o.top_k = 0;
  Rng r1(1), r2(2);
  const std::vector<int64_t> prompt = {5, 6};
  auto a = GenerateText(lm, prompt, 300, o, nullptr, r1);
  auto b = GenerateText(lm, prompt, 300, o, nullptr, r2);
  ASSERT_GT(a.size(), 100u);
  // Windows rarely repeat over 4 tokens, so the output hardly depends on the ordinary RNG.
  size_t same = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()) && a[i] == b[i]; ++i) ++same;
  EXPECT_GT(same, 50u);
  VllmGumbelScheme right(42, 4), wrong(43, 4);
  Accumulator acc_right(right, Dedup::kPair), acc_wrong(wrong, Dedup::kPair);
  EXPECT_LT(acc_right.Log10P(acc_right.AddText(a)), -10);
  EXPECT_GT(acc_wrong.Log10P(acc_wrong.AddText(a)), -3);
}

TEST(GenerateText, KgwFavoursTheGreenList) {
  NgramLm lm = RandomLm(200, 4);
  KgwScheme kgw(kHfKgwHashingKey, 200, 0.25);
  SamplerOptions o;
  o.kind = SamplerKind::kHfKgw;
  o.top_k = 0;
  Rng rng(9);
  std::vector<int64_t> prompt = {7};
  auto text = GenerateText(lm, prompt, 400, o, &kgw, rng);
  ASSERT_GT(text.size(), 200u);
  int green = 0;
  int64_t prev = prompt.back();
  for (int64_t t : text) {
    green += kgw.IsGreen(prev, t);
    prev = t;
  }
  // delta = 2 multiplies green odds by e^2: far above the 25% of unwatermarked text.
  EXPECT_GT(green, static_cast<int>(0.45 * text.size()));
}

// --- the study on the shared corpora ---

std::string CorporaDir() {
  const char* shared = std::getenv("DG_SHARED_DIR");
  if (!shared) return {};
  std::string dir = std::string(shared) + "/data/corpora";
  return std::filesystem::is_directory(dir) ? dir : std::string();
}

TEST(Study, RadioactiveAtFivePercentCalibratedAtZero) {
  const std::string corpora = CorporaDir();
  if (corpora.empty()) GTEST_SKIP() << "DG_SHARED_DIR/data/corpora not present";
  std::vector<std::string> documents;
  sim::Corpora c(corpora);
  for (const char* group : {"benchmark", "benign", "distill"})
    if (const auto* items = c.Get(group))
      for (const auto& item : *items)
        documents.insert(documents.end(), item.turns.begin(), item.turns.end());
  StudyOptions o;
  o.max_docs = 3000;
  o.vocab_size = 2048;
  o.suspect_texts = 300;
  o.calibration_keys = 200;
  o.query_curve = {300, 2000};  // KGW needs more queries than Gumbel (the power curve)
  StudyResult r = RunStudy(o, documents, {});
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.rows.size(), 6u);
  for (const auto& row : r.rows) {
    SCOPED_TRACE(row.scheme + " rate " + std::to_string(row.rate));
    if (row.rate == 0.0) {
      // Never trained on watermarked text: nothing found, with the true key.
      EXPECT_EQ(row.watermarked_tokens, 0);
      EXPECT_GT(row.log10_p_all, -3);
      EXPECT_GT(row.log10_p_filtered, -3);
    }
    if (row.scheme == "vllm-gumbel" && row.rate == 0.05) {
      EXPECT_GT(row.watermarked_tokens, 0);
      EXPECT_LT(row.log10_p_filtered, -6);
    }
    if (row.scheme == "hf-kgw" && row.rate == 0.0) {
      ASSERT_TRUE(row.has_reading);
      EXPECT_GT(row.log10_p_reading, -3);
    }
  }
  // KGW: with 2,000 answers per student instead of 300, the exact green-count test flags the 5%
  // student below 1e-6 and not the 0% one.
  int kgw_points = 0;
  for (const auto& c : r.curve) {
    if (c.scheme != "hf-kgw" || c.answers != 2000) continue;
    SCOPED_TRACE("hf-kgw curve, rate " + std::to_string(c.rate));
    ASSERT_TRUE(c.has_exact);
    ++kgw_points;
    if (c.rate == 0.0) {
      EXPECT_GT(c.log10_px_all, -3);
    }
    if (c.rate == 0.05) {
      EXPECT_LT(c.log10_px_all, -6);
    }
  }
  EXPECT_EQ(kgw_points, 3);
  // An innocent model quoting its (watermarked) prompt: reading mode's design does not flag it
  // with the true key; scoring every window of answers to uncut watermarked prompts does.
  ASSERT_EQ(r.reading_checks.size(), 1u);
  EXPECT_GT(r.reading_checks[0].log10_p_valid, -3);
  EXPECT_LT(r.reading_checks[0].log10_p_naive, -3);
  // Calibration: 200 keys the texts never saw; uniform p-values unless deduplication is off.
  // KGW adds the 0% student in reading mode, and the exact law of five samples.
  ASSERT_EQ(r.calibration.size(), 16u);
  for (const auto& c : r.calibration) {
    SCOPED_TRACE(c.scheme + ": " + c.sample);
    EXPECT_EQ(c.keys, 200);
    if (c.deduplicated) {
      EXPECT_GT(c.ks_p, 1e-3);
    } else {
      EXPECT_LT(c.ks_p, 1e-3);  // the KS test has the power to reject a miscalibrated test
    }
  }
}

}  // namespace
}  // namespace dg::prove
