// Added (and special) tokens: strings cut out of the text before normalisation and BPE, each
// becoming its own id.
//
// Design: a byte trie over the token contents, searched leftmost-longest (at the first position
// where any token starts, the longest one), non-overlapping: the semantics of the aho-corasick
// automaton in Hugging Face's AddedVocabulary and, for tokens that are not prefixes of each
// other (cl100k/o200k), of tiktoken's special-token regex. Hugging Face's per-token options are
// applied to each match as AddedVocabulary::find_matches does: single_word drops a match glued to
// a word character, lstrip/rstrip widen it over neighbouring whitespace.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dg::tokenize {

struct AddedToken {
  std::string content;
  uint32_t id = 0;
  bool special = false;
  bool normalized = false;
  bool lstrip = false, rstrip = false, single_word = false;
};

// A piece of a split: either text to tokenise or an added token.
struct Segment {
  size_t start, end;
  int64_t id;  // -1: ordinary text
};

class AddedTokenMatcher {
 public:
  // `tokens` must outlive the matcher; `contents[i]` is the string matched for tokens[i] (the
  // content itself, or its normalised form for normalized tokens).
  void Build(const std::vector<const AddedToken*>& tokens,
             const std::vector<std::string>& contents);
  bool empty() const { return tokens_.empty(); }
  // Splits `s` into ordinary text and added tokens. With match_special false, special tokens
  // are not matched (they stay text).
  void Split(std::string_view s, bool match_special, std::vector<Segment>* out) const;

 private:
  // Trie: (node << 8 | byte) -> child node; node 0 is the root. terminal_[node] is the index of
  // the token ending there, or -1.
  boost::unordered_flat_map<uint64_t, int32_t> edges_;
  std::vector<int32_t> terminal_;
  bool first_byte_[256] = {};
  std::vector<const AddedToken*> tokens_;
};

}  // namespace dg::tokenize
