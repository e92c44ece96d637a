// Real-corpus checks for the text features and phrase categories. Reads
// $DG_SHARED_DIR/data/{corpora,templates}; skipped when DG_SHARED_DIR is unset or missing.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "features/phrases.h"
#include "features/text.h"

namespace dg::features {
namespace {

namespace fs = std::filesystem;

fs::path SharedData() {
  const char* env = std::getenv("DG_SHARED_DIR");
  if (env == nullptr || *env == '\0') return {};
  fs::path p = fs::path(env) / "data";
  return fs::exists(p) ? p : fs::path();
}

#define REQUIRE_SHARED()              \
  const fs::path data = SharedData(); \
  if (data.empty()) GTEST_SKIP() << "DG_SHARED_DIR not set or missing"

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// All prompts (each turn's text) of a corpus JSONL file, one vector per record.
std::vector<std::vector<std::string>> LoadCorpus(const fs::path& p) {
  std::vector<std::vector<std::string>> out;
  std::ifstream in(p);
  std::string line;
  simdjson::dom::parser parser;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc)) continue;
    simdjson::dom::array turns;
    if (doc["turns"].get_array().get(turns)) continue;
    std::vector<std::string> rec;
    for (auto t : turns) {
      std::string_view sv;
      if (!t.get_string().get(sv)) rec.emplace_back(sv);
    }
    out.push_back(std::move(rec));
  }
  return out;
}

// Fraction of records (first turn) whose phrase mask has each category bit.
std::map<uint32_t, double> CategoryRates(const std::vector<std::vector<std::string>>& recs,
                                         TextFeaturizer& tf) {
  std::map<uint32_t, double> rates;
  size_t n = 0;
  for (const auto& r : recs) {
    if (r.empty()) continue;
    std::vector<std::string_view> parts(r.begin(), r.end());
    TextFeatures f;
    tf.Compute(parts, f);
    ++n;
    for (uint32_t b = 0; b < kNumPhraseCategories; ++b)
      if (f.phrase_mask & (1u << b)) rates[1u << b] += 1;
  }
  for (auto& [k, v] : rates) v /= n ? n : 1;
  return rates;
}

void PrintRates(const std::string& name, const std::map<uint32_t, double>& r) {
  std::printf("%-36s", name.c_str());
  for (uint32_t b = 0; b < kNumPhraseCategories; ++b) {
    auto it = r.find(1u << b);
    std::printf(" %s=%.3f", PhraseCategoryName(1u << b), it == r.end() ? 0.0 : it->second);
  }
  std::printf("\n");
}

double Rate(const std::map<uint32_t, double>& r, uint32_t cat) {
  auto it = r.find(cat);
  return it == r.end() ? 0.0 : it->second;
}

TEST(Corpus, AlpacaPromptsAreDistinctButShareFewSkeletons) {
  REQUIRE_SHARED();
  auto recs = LoadCorpus(data / "corpora/distill/alpaca_5000.jsonl");
  ASSERT_GE(recs.size(), 4900u);
  std::set<uint64_t> exact, skel, prefix;
  for (const auto& r : recs) {
    TextFeatures f;
    ComputeTextFeatures(r[0], f);
    exact.insert(f.exact_hash);
    skel.insert(f.skeleton_hash);
    prefix.insert(f.prefix_hash);
  }
  std::printf("alpaca_5000: %zu records, %zu exact, %zu skeleton, %zu prefix hashes\n", recs.size(),
              exact.size(), skel.size(), prefix.size());
  EXPECT_GE(exact.size(), recs.size() * 99 / 100);
  EXPECT_LT(skel.size(), exact.size());  // masking merges numeric/quoted variants
  EXPECT_LT(prefix.size(), skel.size());
}

TEST(Corpus, TemplatesTriggerDataGenAndReasoning) {
  REQUIRE_SHARED();
  TextFeaturizer tf;
  int n = 0;
  for (const auto& e : fs::directory_iterator(data / "templates")) {
    const std::string name = e.path().filename().string();
    const std::string text = ReadFile(e.path());
    TextFeatures f;
    tf.Compute(text, f);
    std::printf("%-48s mask=0x%02x\n", name.c_str(), f.phrase_mask);
    SCOPED_TRACE(name);
    if (name.find("rephrase") != std::string::npos || name.find("rewrite") != std::string::npos) {
      EXPECT_TRUE(f.phrase_mask & kDataGen);  // "rephrase/rewrite the question"
    } else if (name.rfind("metamath", 0) == 0) {
      EXPECT_TRUE(f.phrase_mask & kCotElicit);        // "A: Let's think step by step."
      EXPECT_TRUE(f.phrase_mask & kReasoningFormat);  // "The answer is N" / "The value of X is"
    } else {
      EXPECT_TRUE(f.phrase_mask & kDataGen);  // self-instruct style generation prompts
    }
    ++n;
  }
  EXPECT_GE(n, 10);
}

TEST(Corpus, MetaMathTemplateFillsShareSkeleton) {
  REQUIRE_SHARED();
  const std::string tmpl = ReadFile(data / "templates/metamath_ansaug_cot_gsm8k.txt");
  const size_t cut = tmpl.rfind("Question: ");
  ASSERT_NE(cut, std::string::npos);
  const std::string head = tmpl.substr(0, cut + 10);
  auto gsm = LoadCorpus(data / "corpora/benchmark/gsm8k_train.jsonl");
  ASSERT_GE(gsm.size(), 200u);
  std::set<uint64_t> exact, skel, pre, suf;
  for (size_t i = 0; i < 200; ++i) {
    const std::string prompt = head + gsm[i][0] + "\nA: Let's think step by step.";
    TextFeatures f;
    ComputeTextFeatures(prompt, f);
    exact.insert(f.exact_hash);
    skel.insert(f.skeleton_hash);
    pre.insert(f.prefix_hash);
    suf.insert(f.suffix_hash);
  }
  EXPECT_EQ(exact.size(), 200u);
  EXPECT_EQ(skel.size(), 1u);
  EXPECT_EQ(pre.size(), 1u);
  EXPECT_EQ(suf.size(), 1u);
}

TEST(Corpus, AlpacaWrapperFillsShareSkeleton) {
  REQUIRE_SHARED();
  auto recs = LoadCorpus(data / "corpora/distill/alpaca_5000.jsonl");
  std::map<uint64_t, int> skel;
  std::set<uint64_t> pre;
  const size_t n = std::min<size_t>(recs.size(), 2000);
  for (size_t i = 0; i < n; ++i) {
    const std::string prompt =
        "Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n### Instruction:\n" +
        recs[i][0] + "\n\n### Response:";
    TextFeatures f;
    ComputeTextFeatures(prompt, f);
    ++skel[f.skeleton_hash];
    pre.insert(f.prefix_hash);
  }
  int mode = 0;
  for (auto& [k, v] : skel) mode = std::max(mode, v);
  std::printf("alpaca wrapper: %zu prompts, %zu skeletons, largest share %.3f\n", n, skel.size(),
              double(mode) / n);
  EXPECT_EQ(pre.size(), 1u);
  EXPECT_GE(mode, static_cast<int>(n * 9 / 10));  // fills holding "Label:" lines split off
}

TEST(Corpus, CategoryRatesBenignVsDistill) {
  REQUIRE_SHARED();
  TextFeaturizer tf;
  std::vector<std::vector<std::string>> benign, distill;
  for (const char* dir : {"benign", "distill", "benchmark"}) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(data / "corpora" / dir)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      auto recs = LoadCorpus(p);
      PrintRates(std::string(dir) + "/" + p.stem().string(), CategoryRates(recs, tf));
      if (std::string(dir) == "benign") benign.insert(benign.end(), recs.begin(), recs.end());
      if (std::string(dir) == "distill") distill.insert(distill.end(), recs.begin(), recs.end());
    }
  }
  const auto b = CategoryRates(benign, tf), d = CategoryRates(distill, tf);
  PrintRates("ALL benign (" + std::to_string(benign.size()) + ")", b);
  PrintRates("ALL distill (" + std::to_string(distill.size()) + ")", d);
  // Humans rarely ask for reasoning traces or synthetic data; low but not necessarily zero.
  EXPECT_LT(Rate(b, kCotElicit), 0.02);
  EXPECT_LT(Rate(b, kDataGen), 0.03);
  // Saying that the answers are collected to train a model: no human prompt of these corpora does.
  EXPECT_LT(Rate(b, kTrainPurpose), 0.002);
  EXPECT_LT(Rate(b, kReasoningFormat), 0.02);
  EXPECT_LT(Rate(b, kSystemPromptProbe), 0.02);
  auto rp = CategoryRates(LoadCorpus(data / "corpora/distill/gpteacher_roleplay.jsonl"), tf);
  EXPECT_GT(Rate(rp, kRoleplay), 0.5);
  // Self-contained tasks: most of every instruction set, role-play ones included (a persona set
  // up before the task), and a minority of what people write.
  EXPECT_GT(Rate(rp, kTaskStyle), 0.6);
  EXPECT_GT(Rate(d, kTaskStyle), 0.7);
  EXPECT_LT(Rate(b, kTaskStyle), 0.25);
  // The writer speaks of itself in a quarter to two fifths of what people ask; an instruction
  // set's "I" is the material's (a persona's scene after a blank line), not the writer's.
  for (const char* human : {"benign/arena_hard_v01", "benign/lima", "benign/oasst1_val"}) {
    auto r = CategoryRates(LoadCorpus(data / "corpora" / (std::string(human) + ".jsonl")), tf);
    EXPECT_GT(Rate(r, kFirstPerson), 0.25) << human;
  }
  EXPECT_LT(Rate(rp, kFirstPerson), 0.05);
  EXPECT_LT(Rate(d, kFirstPerson), 0.04);
}

// The byte-mode database used for pure-ASCII text must agree with the UTF-8 database on every
// real prompt (and on ASCII-only prefixes of non-ASCII ones), in every category.
TEST(Corpus, AsciiFastPathAgreesWithUtf8Database) {
  REQUIRE_SHARED();
  const PhraseMatcherDb& db = PhraseMatcherDb::Default();
  ASSERT_NE(db.ascii_db(), nullptr);
  PhraseMatcher m(db);
  size_t texts = 0, ascii = 0, matched = 0;
  for (const char* dir : {"benign", "distill", "benchmark"}) {
    for (const auto& e : fs::directory_iterator(data / "corpora" / dir)) {
      for (const auto& turns : LoadCorpus(e.path())) {
        for (const auto& t : turns) {
          ++texts;
          const uint32_t fast = m.Match(t), ref = m.MatchUtf8(t);
          ASSERT_EQ(fast, ref) << e.path().filename() << ": " << t.substr(0, 200);
          matched += fast != 0;
          bool is_ascii = true;
          for (unsigned char c : t) is_ascii = is_ascii && c < 0x80;
          ascii += is_ascii;
        }
      }
    }
  }
  std::printf("%zu texts, %zu pure ASCII, %zu with some category\n", texts, ascii, matched);
  EXPECT_GT(ascii, texts / 2);  // the fast path is the common one
  EXPECT_GT(matched, 1000u);    // and the comparison covers matches, not only misses
}

}  // namespace
}  // namespace dg::features
