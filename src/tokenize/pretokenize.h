// Pre-tokenisation: cutting normalised text into the pieces BPE runs on, as Hugging Face's
// pre-tokenizers (Split, ByteLevel, Digits, Sequence) and tiktoken's split regex do.
//
// Design: a piece list is a vector of string_views into the segment being encoded, plus an arena
// for the few pieces a step must rewrite (ByteLevel's add_prefix_space). Each step maps every
// piece to its sub-pieces. A split first lists the regex matches and the gaps between them in
// order, then applies one of Hugging Face's SplitDelimiterBehavior rules (tokenizers'
// normalizer.rs); empty pieces are dropped, as PreTokenizedString::split does.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenize/regex.h"

namespace dg::tokenize {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct PreTokenStep {
  enum class Kind { kSplit, kPrefixSpace } kind = Kind::kSplit;
  std::unique_ptr<Regex> regex;  // kSplit
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
};

// Splits `s` by `regex` under `behavior` (and `invert`), appending the non-empty pieces.
bool SplitPiece(std::string_view s, const Regex& regex, SplitBehavior behavior, bool invert,
                std::vector<std::string_view>* out, std::string* err);

// Runs `steps` over `text`, leaving the pieces in *pieces. `arena` owns rewritten pieces and must
// outlive them.
bool PreTokenize(std::string_view text, const std::vector<PreTokenStep>& steps,
                 std::vector<std::string_view>* pieces,
                 std::vector<std::unique_ptr<std::string>>* arena, std::string* err);

// The GPT-2 split regex that Hugging Face's ByteLevel pre-tokenizer uses when use_regex is true.
extern const char kGpt2Pattern[];

}  // namespace dg::tokenize
