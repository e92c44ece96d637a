// Tuple deduplication, radioactivity on a synthetic student, and the `prove` CLI end to end.
#include "prove/detect.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <random>

#include "prove/stats.h"
#include "synth.h"
#include "testutil/testutil.h"

namespace dg::prove {
namespace {

std::vector<int64_t> Cycle(std::vector<int64_t> base, int times) {
  std::vector<int64_t> out;
  for (int i = 0; i < times; ++i) out.insert(out.end(), base.begin(), base.end());
  return out;
}

TEST(Dedup, RepeatedTuplesAreScoredOnce) {
  VllmGumbelScheme s(42, 4);
  auto text = Cycle({1, 2, 3, 4, 5}, 40);
  // 4 windows still padded with -1, then the 5 windows of the cycle.
  Accumulator pair(s, Dedup::kPair);
  Tally t = pair.AddText(text);
  EXPECT_EQ(t.scored, 9);
  Tally again = pair.AddText(text);
  EXPECT_EQ(again.scored, 9);          // per text: its own tuples
  EXPECT_EQ(pair.pooled().scored, 9);  // pooled: nothing new
  EXPECT_DOUBLE_EQ(pair.pooled().statistic, t.statistic);
  Accumulator none(s, Dedup::kNone);
  EXPECT_EQ(none.AddText(text).scored, 200);
}

TEST(Dedup, StatisticIsTheSumOverDistinctTuples) {
  VllmGumbelScheme s(7, 1);
  const std::vector<int64_t> text = {1, 2, 1, 3, 1, 2};
  Accumulator pair(s, Dedup::kPair), ctx(s, Dedup::kContext);
  Tally tp = pair.AddText(text), tc = ctx.AddText(text);
  // Tuples (-1,1) (1,2) (2,1) (1,3) (3,1) (1,2): 5 distinct pairs, 4 distinct windows.
  EXPECT_EQ(tp.scored, 5);
  EXPECT_EQ(tc.scored, 4);
  auto sc = [](int64_t w, int64_t t) {
    std::vector<int64_t> win = {w};
    return VllmGumbelScore(7, win, t);
  };
  EXPECT_DOUBLE_EQ(tp.statistic, sc(-1, 1) + sc(1, 2) + sc(2, 1) + sc(1, 3) + sc(3, 1));
  EXPECT_DOUBLE_EQ(tc.statistic, sc(-1, 1) + sc(1, 2) + sc(2, 1) + sc(3, 1));
  EXPECT_DOUBLE_EQ(pair.Log10P(tp), Log10(LogGammaUpperTail(5, tp.statistic)));
}

TEST(Dedup, KgwStartsAfterTheFirstToken) {
  KgwScheme s(kHfKgwHashingKey, 100, 0.25);
  Accumulator acc(s, Dedup::kPair);
  EXPECT_EQ(acc.AddText(std::vector<int64_t>{5}).scored, 0);
  EXPECT_EQ(acc.AddText(std::vector<int64_t>{5, 6, 5, 6, 5, 6}).scored, 2);  // (5,6) (6,5)
}

// The radioactivity setting: a teacher samples with vLLM's Gumbel watermark (context width 2 over
// a 64-token bigram model); a student fine-tuned on its text reproduces the teacher's choice after
// a window it saw with probability `rate`, and otherwise samples the base model unwatermarked.
struct Radioactive {
  static constexpr uint64_t kKey = 0x5EC2E7ull;
  static constexpr int kWidth = 2;
  synth::BigramLm lm{64, 21};
  std::vector<std::vector<int64_t>> teacher;
  std::map<std::vector<int64_t>, int64_t> learned;  // window -> teacher's token

  Radioactive() {
    std::mt19937_64 rng(1);
    uint64_t key = kKey;
    for (int i = 0; i < 40; ++i) teacher.push_back(synth::Generate(lm, 300, rng, &key, kWidth));
    for (const auto& t : teacher) {
      std::vector<int64_t> w(kWidth, -1);
      for (int64_t tok : t) {
        learned[w] = tok;
        w.erase(w.begin());
        w.push_back(tok);
      }
    }
  }
  std::vector<std::vector<int64_t>> Student(double rate, uint64_t seed) const {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    std::vector<std::vector<int64_t>> out;
    for (int i = 0; i < 40; ++i) {
      std::vector<int64_t> text, w(kWidth, -1);
      int64_t prev = static_cast<int64_t>(rng() % lm.vocab);
      for (int j = 0; j < 300; ++j) {
        auto it = learned.find(w);
        int64_t tok =
            it != learned.end() && coin(rng) < rate ? it->second : lm.SamplePlain(prev, rng);
        text.push_back(tok);
        w.erase(w.begin());
        w.push_back(tok);
        prev = tok;
      }
      out.push_back(std::move(text));
    }
    return out;
  }
  double Log10P(const std::vector<std::vector<int64_t>>& suspect, bool restrict) const {
    VllmGumbelScheme s(kKey, kWidth);
    Accumulator acc(s, Dedup::kPair);
    if (restrict) {
      FingerprintSet allowed;
      for (const auto& t : teacher) {
        ForEachTuple(s, t,
                     [&](std::span<const int64_t> w, int64_t) { allowed.insert(WindowPrint(w)); });
      }
      acc.RestrictWindows(std::move(allowed));
    }
    for (const auto& t : suspect) acc.AddText(t);
    return acc.Log10P(acc.pooled());
  }
};

TEST(Radioactivity, StudentOfWatermarkedTeacherIsCaught) {
  Radioactive r;
  auto student = r.Student(0.2, 77);
  const double filtered = r.Log10P(student, true), all = r.Log10P(student, false);
  EXPECT_LT(filtered, -6.0);
  // Unfiltered, the student's many windows the teacher never produced dilute the signal: keeping
  // only the watermarked data's windows is what gives the test its power.
  EXPECT_LT(filtered, all - 3.0);
}

TEST(Radioactivity, UnrelatedModelIsNotAccused) {
  Radioactive r;
  auto unrelated = r.Student(0.0, 78);  // same base model, never saw the watermarked text
  EXPECT_GT(r.Log10P(unrelated, true), -2.0);
  EXPECT_GT(r.Log10P(unrelated, false), -2.0);
}

std::string TokensJsonl(const std::vector<std::vector<int64_t>>& texts) {
  std::string out;
  for (size_t i = 0; i < texts.size(); ++i) {
    out += fmt::format("{{\"id\":\"t{}\",\"tokens\":[{}]}}\n", i, fmt::join(texts[i], ","));
  }
  return out;
}

TEST(ProveCli, DetectJsonPerTextAndPooledWithBadLinesCounted) {
  auto dir = testutil::TempDir("prove-detect");
  synth::BigramLm lm(64, 7);
  std::mt19937_64 rng(11);
  const uint64_t key = 123456789;
  auto wm = synth::Generate(lm, 300, rng, &key);
  auto plain = synth::Generate(lm, 300, rng);
  std::string data = TokensJsonl({wm, plain});
  data += "this is not json\n";
  data += "{\"id\":\"x\",\"tokens\":[1,-5]}\n";
  data += "{\"id\":\"y\",\"tokens\":\"1 2\"}\n";
  data += "{\"id\":\"z\"}\n";
  testutil::WriteAll(dir / "tokens.jsonl", data);
  auto r = testutil::Run(
      fmt::format("{} prove detect --scheme vllm-gumbel --key {} --tokens {} "
                  "--json 2>{}",
                  DG_BINARY, key, (dir / "tokens.jsonl").string(), (dir / "err.txt").string()));
  ASSERT_EQ(r.exit_code, 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  simdjson::dom::array texts = doc["texts"].get_array();
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(std::string_view(texts.at(0)["id"].get_string()), "t0");
  EXPECT_LT(double(texts.at(0)["log10_p"]), -10.0);
  EXPECT_GT(double(texts.at(1)["log10_p"]), -3.0);
  EXPECT_GT(int64_t(texts.at(0)["scored"]), 250);
  EXPECT_LT(double(doc["pooled"]["log10_p"]), -10.0);
  EXPECT_EQ(int64_t(doc["bad_lines"]), 4);
  std::string err = testutil::ReadAll(dir / "err.txt");
  EXPECT_NE(err.find("line 3: malformed JSON"), std::string::npos) << err;
  EXPECT_NE(err.find("line 4: \"tokens\"[1] = -5"), std::string::npos) << err;
  EXPECT_NE(err.find("line 5: \"tokens\" is not an array"), std::string::npos) << err;
  EXPECT_NE(err.find("line 6: no \"tokens\" array"), std::string::npos) << err;
}

TEST(ProveCli, KgwNeedsVocabSize) {
  auto dir = testutil::TempDir("prove-kgw");
  testutil::WriteAll(dir / "t.jsonl", "{\"id\":\"a\",\"tokens\":[1,2,3]}\n");
  auto r =
      testutil::Run(fmt::format("{} prove detect --scheme hf-kgw --key 15485863 --tokens {} "
                                "2>/dev/null",
                                DG_BINARY, (dir / "t.jsonl").string()));
  EXPECT_EQ(r.exit_code, 2);
}

TEST(ProveCli, RadioactivityOnFiles) {
  auto dir = testutil::TempDir("prove-radio");
  Radioactive r;
  testutil::WriteAll(dir / "wm.jsonl", TokensJsonl(r.teacher));
  testutil::WriteAll(dir / "student.jsonl", TokensJsonl(r.Student(0.2, 77)));
  testutil::WriteAll(dir / "other.jsonl", TokensJsonl(r.Student(0.0, 78)));
  auto run = [&](const char* suspect) {
    auto res = testutil::Run(fmt::format(
        "{} prove radioactivity --scheme vllm-gumbel --key {} --context-width 2 --suspect {} "
        "--watermarked {} --json",
        DG_BINARY, Radioactive::kKey, (dir / suspect).string(), (dir / "wm.jsonl").string()));
    EXPECT_EQ(res.exit_code, 0);
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    EXPECT_EQ(p.parse(res.out).get(doc), simdjson::SUCCESS) << res.out;
    EXPECT_GT(int64_t(doc["watermarked_windows"]), 0);
    return double(doc["pooled"]["log10_p"]);
  };
  EXPECT_NEAR(run("student.jsonl"), r.Log10P(r.Student(0.2, 77), true), 1e-6);
  EXPECT_LT(run("student.jsonl"), -6.0);
  EXPECT_GT(run("other.jsonl"), -2.0);
}

// KGW: radioactivity also reports the green count against its exact law (a sum of one
// hypergeometric per previous token), which is below the conservative binomial p-value on a
// watermarked suspect and not significant on an unwatermarked one; other schemes do not report it.
TEST(ProveCli, RadioactivityKgwExactLaw) {
  auto dir = testutil::TempDir("prove-radio-kgw");
  const int64_t vocab = 200;
  const int64_t green = KgwGreenlistSize(vocab, 0.25);
  std::mt19937_64 rng(5);
  // A suspect that learned the green lists (30% of its tokens drawn from the green list after
  // the previous token, the rest uniform), one that did not (uniform tokens).
  std::vector<std::vector<int64_t>> learned, plain;
  for (int t = 0; t < 20; ++t) {
    std::vector<int64_t> a{static_cast<int64_t>(1 + rng() % (vocab - 1))}, b;
    for (int i = 0; i < 60; ++i) {
      auto list = KgwGreenlist(kHfKgwHashingKey, a.back(), vocab, green);
      a.push_back(rng() % 10 < 3 ? list[rng() % list.size()]
                                 : static_cast<int64_t>(1 + rng() % (vocab - 1)));
      b.push_back(static_cast<int64_t>(1 + rng() % (vocab - 1)));
    }
    learned.push_back(a);
    plain.push_back(b);
  }
  testutil::WriteAll(dir / "learned.jsonl", TokensJsonl(learned));
  testutil::WriteAll(dir / "plain.jsonl", TokensJsonl(plain));
  auto run = [&](const std::string& scheme, const char* suspect) {
    auto res = testutil::Run(fmt::format(
        "{} prove radioactivity --scheme {} --key {} --vocab-size {} --suspect {} --json",
        DG_BINARY, scheme, kHfKgwHashingKey, vocab, (dir / suspect).string()));
    EXPECT_EQ(res.exit_code, 0);
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    EXPECT_EQ(p.parse(res.out).get(doc), simdjson::SUCCESS) << res.out;
    double binomial = double(doc["pooled"]["log10_p"]);
    double exact = 1.0;
    if (doc["pooled"]["exact_log10_p"].get(exact) != simdjson::SUCCESS) exact = 1.0;
    return std::pair<double, double>{binomial, exact};
  };
  auto [lb, le] = run("hf-kgw", "learned.jsonl");
  EXPECT_LT(lb, -10.0);
  EXPECT_LT(le, lb);  // exact: the hypergeometric sum has a thinner upper tail
  auto [pb, pe] = run("hf-kgw", "plain.jsonl");
  EXPECT_GT(pe, -3.0);
  EXPECT_LE(pe, 0.0);
  EXPECT_EQ(run("vllm-gumbel", "plain.jsonl").second, 1.0);  // no exact law reported
}

}  // namespace
}  // namespace dg::prove
