// Pre-tokenisation: PCRE2 with Oniguruma/Rust \s semantics, empty matches, and Hugging Face's
// five split behaviours (the examples of tokenizers' own tests, "The-final--countdown").
#include "tokenize/regex.h"

#include <gtest/gtest.h>

#include "tokenize/pretokenize.h"

namespace dg::tokenize {
namespace {

std::vector<std::string> Split(std::string_view s, std::string_view pattern, SplitBehavior b,
                               bool invert = false, bool literal = false) {
  std::string err;
  auto re = Regex::Compile(pattern, literal, &err);
  EXPECT_TRUE(re) << err;
  std::vector<std::string_view> out;
  EXPECT_TRUE(SplitPiece(s, *re, b, invert, &out, &err)) << err;
  return {out.begin(), out.end()};
}

using V = std::vector<std::string>;

TEST(Regex, SplitBehaviours) {
  const std::string s = "The-final--countdown";
  EXPECT_EQ(Split(s, "-", SplitBehavior::kRemoved, false, true), (V{"The", "final", "countdown"}));
  EXPECT_EQ(Split(s, "-", SplitBehavior::kIsolated, false, true),
            (V{"The", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(Split(s, "-", SplitBehavior::kMergedWithPrevious, false, true),
            (V{"The-", "final-", "-", "countdown"}));
  EXPECT_EQ(Split(s, "-", SplitBehavior::kMergedWithNext, false, true),
            (V{"The", "-final", "-", "-countdown"}));
  EXPECT_EQ(Split(s, "-", SplitBehavior::kContiguous, false, true),
            (V{"The", "-", "final", "--", "countdown"}));
  // invert: the matches are the kept text; Removed then keeps only matches (tiktoken's rule).
  EXPECT_EQ(Split("ab12cd", "\\p{L}+", SplitBehavior::kRemoved, true), (V{"ab", "cd"}));
}

TEST(Regex, WhitespaceIsTheWhiteSpaceProperty) {
  // U+180E is \s for PCRE2's \h but not White_Space (Rust, Oniguruma); U+0085 and U+3000 are.
  EXPECT_EQ(Split("a\xE1\xA0\x8E"
                  "b",
                  "\\s+", SplitBehavior::kRemoved),
            (V{"a\xE1\xA0\x8E"
               "b"}));
  EXPECT_EQ(Split("a\xC2\x85"
                  "b\xE3\x80\x80"
                  "c",
                  "\\s+", SplitBehavior::kRemoved),
            (V{"a", "b", "c"}));
  EXPECT_EQ(Split("a\xE1\xA0\x8E"
                  "b",
                  "[^\\s]+", SplitBehavior::kRemoved, true),
            (V{"a\xE1\xA0\x8E"
               "b"}));
  EXPECT_EQ(RewriteWhitespaceClasses("\\\\s"), "\\\\s");  // an escaped backslash, then 's'
  EXPECT_NE(RewriteWhitespaceClasses("[^\\s\\p{L}]").find("\\x{3000}"), std::string::npos);
}

TEST(Regex, EmptyMatchesSplitGapsAndTerminate) {
  // \b matches empty strings: the gaps are cut at word boundaries and the scan ends.
  EXPECT_EQ(Split("ab cd", "\\b", SplitBehavior::kIsolated), (V{"ab", " ", "cd"}));
  EXPECT_EQ(Split("é", "x*", SplitBehavior::kIsolated), (V{"é"}));
}

TEST(Regex, CaseInsensitiveContractionsAndLongRuns) {
  EXPECT_EQ(Split("I'LL go", "(?i:'s|'ll)|\\p{L}+|\\s+", SplitBehavior::kRemoved, true),
            (V{"I", "'LL", " ", "go"}));
  // A 1 MB whitespace run with look-ahead: no JIT stack overflow, one piece.
  const std::string ws(1 << 20, ' ');
  EXPECT_EQ(Split(ws + "x", "\\s+(?!\\S)|\\s+|\\S+", SplitBehavior::kRemoved, true),
            (V{std::string((1 << 20) - 1, ' '), " ", "x"}));
}

TEST(Regex, BadPatternIsAnError) {
  std::string err;
  EXPECT_EQ(Regex::Compile("(unclosed", false, &err), nullptr);
  EXPECT_NE(err.find("bad regex"), std::string::npos) << err;
}

}  // namespace
}  // namespace dg::tokenize
