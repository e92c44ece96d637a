// Tests for text.h: normalisation, skeleton/prefix/suffix template invariance, SimHash/MinHash.
#include "features/text.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "testutil/testutil.h"

namespace dg::features {
namespace {

TextFeatures F(std::string_view s) {
  TextFeatures f;
  ComputeTextFeatures(s, f);
  return f;
}

TEST(TextFeatures, TriviallyCopyableFixedSize) {
  static_assert(std::is_trivially_copyable_v<TextFeatures>);
  EXPECT_LE(sizeof(TextFeatures), 160u);
}

TEST(TextFeatures, NormalisationInvariance) {
  const auto a = F("Hello, World! How are you?");
  EXPECT_EQ(a.exact_hash, F("hello world how are you").exact_hash);
  EXPECT_EQ(a.exact_hash, F("  HELLO   world\n\nhow\tare YOU ").exact_hash);
  EXPECT_EQ(a.simhash, F("hello world how are you").simhash);
  EXPECT_NE(a.exact_hash, F("hello world how are we").exact_hash);
  EXPECT_NE(a.exact_hash, F("world hello how are you").exact_hash);  // order matters
  EXPECT_EQ(NormalisedHash("Hello, World! How are you?"), a.exact_hash);
  // Latin-1 and Cyrillic case folding.
  EXPECT_EQ(F("ÉTAPE À Être").exact_hash, F("étape à être").exact_hash);
  EXPECT_EQ(F("ПРИВЕТ Мир").exact_hash, F("привет мир").exact_hash);
}

TEST(TextFeatures, Counts) {
  const auto f = F("Hi 42 there\nпривет 世界");
  EXPECT_EQ(f.lines, 2u);
  EXPECT_EQ(f.digits, 2u);
  EXPECT_EQ(f.words, 6u);  // hi 42 there привет 世 界
  EXPECT_EQ(f.non_ascii_chars, 8u);
  EXPECT_EQ(f.chars, 21u);
  EXPECT_EQ(f.script, kScriptLatin);
  EXPECT_EQ(F("Привет, как дела? ok").script, kScriptCyrillic);
  EXPECT_EQ(F("请一步一步地思考这个问题 ok").script, kScriptCjk);
  EXPECT_EQ(F("مرحبا بالعالم").script, kScriptArabic);
  EXPECT_EQ(F("12 34 !!").script, kScriptNone);
}

TEST(TextFeatures, CountsMatchNaiveOnRandomBytes) {
  uint64_t st = 12345;
  for (int round = 0; round < 200; ++round) {
    std::string s;
    const size_t len = round % 37 + round;
    for (size_t i = 0; i < len; ++i) {
      st = st * 6364136223846793005ull + 1442695040888963407ull;
      const char pool[] = "a0Z9\n \x80\xc3\xa9\xe4\xb8\xad\xff/:";
      s.push_back((st >> 60) < 12 ? pool[(st >> 33) % (sizeof(pool) - 1)]
                                  : static_cast<char>(st >> 40));
    }
    uint32_t chars = 0, non_ascii = 0, digits = 0, nl = 0;
    for (unsigned char c : s) {
      chars += (c & 0xC0) != 0x80;
      non_ascii += (c & 0xC0) == 0xC0;
      digits += c >= '0' && c <= '9';
      nl += c == '\n';
    }
    const auto f = F(s);
    ASSERT_EQ(f.chars, chars) << round;
    ASSERT_EQ(f.non_ascii_chars, non_ascii) << round;
    ASSERT_EQ(f.digits, digits) << round;
    ASSERT_EQ(f.lines, s.empty() ? 0 : nl + 1) << round;
  }
}

TEST(TextFeatures, EmptyText) {
  const auto f = F("");
  EXPECT_EQ(f.exact_hash, 0u);
  EXPECT_EQ(f.skeleton_hash, 0u);
  EXPECT_EQ(f.prefix_hash, 0u);
  EXPECT_EQ(f.suffix_hash, 0u);
  EXPECT_EQ(f.simhash, 0u);
  EXPECT_EQ(f.chars, 0u);
  EXPECT_EQ(f.words, 0u);
  EXPECT_EQ(f.lines, 0u);
  for (uint32_t b : f.minhash) EXPECT_EQ(b, UINT32_MAX);
  TextFeaturizer tf;
  TextFeatures g;
  tf.Compute(std::string_view(), g);
  EXPECT_EQ(g.phrase_mask, 0u);
  EXPECT_EQ(g.words, 0u);
  // Punctuation only: no words.
  EXPECT_EQ(F(" ... !!! ").words, 0u);
}

TEST(TextFeatures, InvalidUtf8DoesNotCrash) {
  std::string bad = "think step by step \xff\xfe\xc3 caf\xc3 \xe4\xb8 \xf0\x9f\x98";
  bad.push_back('\0');
  bad += "tail \x80\x80";
  TextFeaturizer tf;
  TextFeatures f;
  tf.Compute(bad, f);
  EXPECT_GT(f.words, 4u);
  EXPECT_TRUE(f.phrase_mask & kCotElicit);
  // Every truncation of a multibyte-heavy string.
  const std::string s = "Переведи «это» на 中文: “quoted” ```code``` ok\xe2\x80";
  for (size_t n = 0; n <= s.size(); ++n) tf.Compute(std::string_view(s).substr(0, n), f);
}

TEST(TextFeatures, MultiPartEqualsConcatenation) {
  TextFeaturizer tf;
  std::vector<std::string_view> parts = {"You are a helpful assistant.", "Question: 2+2?",
                                         "Let's think step by step."};
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) joined += kPartSeparator;
    joined += parts[i];
  }
  TextFeatures a, b;
  tf.Compute(parts, a);
  tf.Compute(joined, b);
  EXPECT_EQ(0, std::memcmp(&a, &b, sizeof(a)));
  EXPECT_TRUE(a.phrase_mask & kCotElicit);
  std::vector<std::string_view> one = {"only part"};
  tf.Compute(one, a);
  tf.Compute("only part", b);
  EXPECT_EQ(0, std::memcmp(&a, &b, sizeof(a)));
  tf.Compute(std::span<const std::string_view>(), a);
  EXPECT_EQ(a.words, 0u);
}

void ExpectSameTemplate(const std::vector<std::string>& fills) {
  const auto f0 = F(fills[0]);
  for (size_t i = 1; i < fills.size(); ++i) {
    SCOPED_TRACE(fills[i]);
    const auto fi = F(fills[i]);
    EXPECT_NE(f0.exact_hash, fi.exact_hash);
    EXPECT_EQ(f0.skeleton_hash, fi.skeleton_hash);
    EXPECT_EQ(f0.prefix_hash, fi.prefix_hash);
    EXPECT_EQ(f0.suffix_hash, fi.suffix_hash);
  }
}

TEST(Skeleton, TranslationTemplate) {
  ExpectSameTemplate({
      "Translate the following sentence into French: The cat sat on the mat.",
      "Translate the following sentence into French: I would like 3 croissants, please!",
      "translate the following sentence into french:\nWhere is the nearest train station? It is "
      "late.\n\nThanks.",
  });
}

TEST(Skeleton, AlpacaWrapper) {
  const std::string pre =
      "Below is an instruction that describes a task. Write a response that appropriately "
      "completes the request.\n\n### Instruction:\n";
  ExpectSameTemplate({
      pre + "Give three tips for staying healthy.\n\n### Response:",
      pre + "Write a haiku about autumn leaves falling\non a quiet pond.\n\n### Response:",
      pre + "What is the capital of France? Explain \"why\" in 2 sentences.\n\n### Response:\n",
  });
}

TEST(Skeleton, MetaMathStyleFewShot) {
  const std::string shots =
      "You are an AI assistant to help me solve math problem.\nFollow the given examples and "
      "answer the question.\n\nQuestion: Tom has 3 apples and buys 2 more. How many apples?\nA: "
      "Let's think step by step.\nTom has 3 + 2 = 5 apples.\nThe answer is 5\n\nQuestion: ";
  ExpectSameTemplate({
      shots + "Natalia sold clips to 48 of her friends in April. How many?\nA: Let's think step "
              "by step.",
      shots + "Weng earns $12 an hour for babysitting.\nYesterday she worked 50 minutes. How much "
              "did she earn?\nA: Let's think step by step.",
  });
}

TEST(Skeleton, NumbersQuotesUrlsEmailsMasked) {
  EXPECT_EQ(SkeletonHash("Buy 12 apples for $3.50 each"),
            SkeletonHash("Buy 7 apples for $100 each"));
  EXPECT_EQ(SkeletonHash("Summarise \"the quick brown fox\" briefly"),
            SkeletonHash("Summarise \"a totally different passage of text here\" briefly"));
  EXPECT_EQ(SkeletonHash("Fix this ```python\nprint(1)\n``` now"),
            SkeletonHash("Fix this ```js\nconsole.log('a' + b);\nlet x = 2;\n``` now"));
  EXPECT_EQ(SkeletonHash("Summarize https://example.com/a/b?x=1 for me"),
            SkeletonHash("Summarize http://other.org/zzz for me"));
  EXPECT_EQ(SkeletonHash("Email bob@example.com today"),
            SkeletonHash("Email alice.smith@corp.co.uk today"));
  EXPECT_EQ(SkeletonHash("Decode aGVsbG8gd29ybGQgdGhpcyBpcyBsb25n please"),
            SkeletonHash("Decode ZGlmZmVyZW50IGJhc2U2NCBibG9iIGhlcmU please"));
  // Curly and CJK quotes.
  EXPECT_EQ(SkeletonHash("Explain “carpe diem” please"),
            SkeletonHash("Explain “memento mori now” please"));
  // An inch mark is not a quote opener: the rest of the text is not swallowed.
  EXPECT_NE(SkeletonHash("a 5\" screen is small"), SkeletonHash("a 5\" screen is big"));
  // Exact hashes still differ.
  EXPECT_NE(NormalisedHash("Buy 12 apples"), NormalisedHash("Buy 7 apples"));
}

TEST(Skeleton, DifferentTemplatesDiffer) {
  const auto a = F("Translate the following sentence into French: The cat sat on the mat.");
  const auto b = F("Translate the following sentence into German: The cat sat on the mat.");
  const auto c = F("Summarize the following paragraph in one line: The cat sat on the mat.");
  EXPECT_NE(a.skeleton_hash, b.skeleton_hash);
  EXPECT_NE(a.skeleton_hash, c.skeleton_hash);
  EXPECT_NE(a.prefix_hash, c.prefix_hash);
  EXPECT_NE(a.suffix_hash, c.suffix_hash);
  // Free-form prompts without a slot differ.
  EXPECT_NE(SkeletonHash("What is the capital of France?"),
            SkeletonHash("What is the capital of Spain?"));
}

TEST(Affixes, AppendedInstructionSharesSuffix) {
  const auto a =
      F("Natalia sold clips to 48 of her friends. How many did she sell?\nLet's think "
        "step by step.");
  const auto b =
      F("A train leaves the station at noon travelling east at a steady speed.\n\nLet's "
        "think step by step.");
  EXPECT_EQ(a.suffix_hash, b.suffix_hash);
  EXPECT_NE(a.prefix_hash, b.prefix_hash);
  EXPECT_NE(a.skeleton_hash, b.skeleton_hash);
  const auto c =
      F("Natalia sold clips to 48 of her friends. How many did she sell?\nAnswer "
        "briefly please.");
  EXPECT_NE(a.suffix_hash, c.suffix_hash);
  // Same first sentence -> same prefix.
  const auto d = F("You are a world-class poet. Write about the sea and its moods at dawn.");
  const auto e = F("You are a world-class poet. Compose a limerick on cats.");
  EXPECT_EQ(d.prefix_hash, e.prefix_hash);
}

using testutil::WordBlock;

size_t SharedAnchors(const TextFeatures& a, const TextFeatures& b) {
  size_t n = 0;
  for (size_t i = 0; i < kAnchors && a.anchor_len[i]; ++i)
    for (size_t j = 0; j < kAnchors && b.anchor_len[j]; ++j)
      n += a.anchor_hash[i] == b.anchor_hash[j] && a.anchor_len[i] == b.anchor_len[j];
  return n;
}

TEST(Anchors, ChunksCoverTheTextWithinTheirBounds) {
  EXPECT_EQ(F("").anchor_len[0], 0u);
  const auto s = F("What is 2+2?");  // shorter than kChunkMin: one chunk, the whole text
  EXPECT_EQ(s.bytes, 12u);
  EXPECT_EQ(s.anchor_len[0], 12u);
  EXPECT_EQ(s.anchor_len[1], 0u);
  const std::string text = WordBlock(7, 20000);
  const auto f = F(text);
  EXPECT_EQ(f.bytes, text.size());
  size_t sum = 0, short_chunks = 0;
  for (size_t i = 0; i < kAnchors; ++i) {
    EXPECT_GT(f.anchor_len[i], 0u);
    EXPECT_LE(f.anchor_len[i], kChunkMax);
    short_chunks += f.anchor_len[i] < kChunkMin;  // only the text's tail may be
    sum += f.anchor_len[i];
  }
  EXPECT_LE(short_chunks, 1u);
  EXPECT_LT(sum, text.size());  // a sample of the chunks, not all of them
}

// A few-shot preamble sent before (or after) every question: its chunks, and so the anchors
// chosen among them, are the same whatever the question and wherever the preamble sits.
TEST(Anchors, AFixedBlockGivesTheSameAnchorsAroundAnyQuestion) {
  const std::string shots = WordBlock(1, 3000);
  const std::string q1 = "Question: Natalia sold clips to 48 of her friends in April. How many?";
  const std::string q2 = "Question: Weng earns $12 an hour. Yesterday she worked 50 minutes.";
  const auto a = F(shots + q1), b = F(shots + q2);
  EXPECT_GE(SharedAnchors(a, b), kAnchors - 1);
  const auto c = F(q1 + "\n" + shots), d = F(q2 + "\n" + shots);
  EXPECT_GE(SharedAnchors(c, d), kAnchors - 2);
  EXPECT_GE(SharedAnchors(a, d), kAnchors / 2);  // the preamble before or after the question
  // Another preamble of the same kind shares nothing.
  EXPECT_EQ(SharedAnchors(a, F(WordBlock(2, 3000) + q1)), 0u);
}

TEST(SimHash, NearDuplicatesCloseUnrelatedFar) {
  const std::string base =
      "The mitochondria is the powerhouse of the cell and produces most of the chemical energy "
      "needed to power the biochemical reactions of the cell, stored in a molecule called ATP. "
      "Mitochondria contain their own small chromosomes and are thought to have evolved from "
      "bacteria that were engulfed by ancestral cells.";
  const std::string near = base + " Explain this to a child.";
  std::string edit = base;
  edit.replace(edit.find("ancestral"), 9, "primitive");
  const std::string other =
      "Write a Python function that parses a CSV file, skips malformed rows, converts the date "
      "column to ISO format and writes the cleaned records to a new file with a header row, "
      "logging how many rows were dropped and why each one was rejected by the validator.";
  const auto fb = F(base), fn = F(near), fe = F(edit), fo = F(other);
  EXPECT_LE(SimhashDistance(fb.simhash, fn.simhash), 12);
  EXPECT_LE(SimhashDistance(fb.simhash, fe.simhash), 12);
  EXPECT_GE(SimhashDistance(fb.simhash, fo.simhash), 18);
  EXPECT_EQ(SimhashDistance(fb.simhash, F(base).simhash), 0);
}

TEST(MinHash, SimilarityOrdering) {
  std::string a, b, c, d;
  for (int i = 0; i < 60; ++i) a += "word" + std::to_string(i) + " ";
  // b: a with a few words changed near the end; c: half changed; d: unrelated.
  for (int i = 0; i < 60; ++i) b += (i >= 57 ? "other" : "word") + std::to_string(i) + " ";
  for (int i = 0; i < 60; ++i) c += (i >= 30 ? "other" : "word") + std::to_string(i) + " ";
  for (int i = 0; i < 60; ++i) d += "zzz" + std::to_string(i * 7) + " ";
  const auto fa = F(a), fb = F(b), fc = F(c), fd = F(d);
  EXPECT_EQ(MinhashSimilarity(fa, fa), 1.0);
  const double ab = MinhashSimilarity(fa, fb), ac = MinhashSimilarity(fa, fc),
               ad = MinhashSimilarity(fa, fd);
  EXPECT_GE(ab, 0.5);
  EXPECT_GT(ab, ac);
  EXPECT_LE(ad, 0.25);
  EXPECT_GE(ac, ad);
  // Short texts (1-2 words) still get a signature.
  EXPECT_NE(F("hello").minhash[0], UINT32_MAX);
  EXPECT_EQ(MinhashSimilarity(F("hello there"), F("Hello, there!")), 1.0);
}

}  // namespace
}  // namespace dg::features
