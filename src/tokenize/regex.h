// Pre-tokeniser regexes on PCRE2 (JIT-compiled, UTF + Unicode properties).
//
// Design: the patterns come from tokenizer.json files and tiktoken, written for Oniguruma (Hugging
// Face tokenizers) and Rust's regex/fancy-regex (tiktoken). PCRE2 reads their syntax: \p{L},
// \p{Lu}, possessive quantifiers, look-ahead, (?i:...). One difference matters: with Unicode
// properties on, PCRE2's \s also matches U+180E (MONGOLIAN VOWEL SEPARATOR, through \h), which
// Oniguruma's and Rust's \s (the Unicode White_Space property) do not. Compile() therefore
// rewrites \s and \S (outside and inside classes) to the explicit White_Space set. Matching scans
// left to right for non-overlapping matches; an empty match advances one character, as
// Oniguruma's and Rust's find_iter do.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dg::tokenize {

class Regex {
 public:
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // `literal`: the pattern is a plain string (Hugging Face's {"String": ...} split pattern).
  static std::unique_ptr<Regex> Compile(std::string_view pattern, bool literal, std::string* err);
  // Appends the [start, end) byte offsets of the matches in `s` (empty matches included), which
  // must be valid UTF-8.
  // False (and *err) only on an engine error, e.g. a resource limit.
  bool FindAll(std::string_view s, std::vector<std::pair<size_t, size_t>>* out,
               std::string* err) const;
  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  struct Code;
  std::unique_ptr<Code> code_;
  std::string pattern_;
};

// The pattern with \s and \S spelled out as the White_Space property (see above).
std::string RewriteWhitespaceClasses(std::string_view pattern);

}  // namespace dg::tokenize
