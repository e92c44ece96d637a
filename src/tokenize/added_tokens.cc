// See added_tokens.h.
#include "tokenize/added_tokens.h"

#include "tokenize/byte_level.h"

namespace dg::tokenize {
namespace {

// Rust's char::is_whitespace (the White_Space property).
bool IsWhiteSpace(uint32_t c) {
  return (c >= 0x9 && c <= 0xD) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Hugging Face's "word" test for single_word tokens: an ASCII alphanumeric or '_' character
// (its ends_with_word/starts_with_word use a \w regex). Non-ASCII letters are approximated by
// "any byte >= 0x80": only single_word tokens next to non-ASCII text can differ.
bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c >= 0x80;
}

// Length of the whitespace run ending at s[end] (exclusive), in bytes.
size_t WhitespaceBefore(std::string_view s, size_t end) {
  size_t i = end;
  while (i > 0) {
    size_t start = i - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t j = start;
    if (!IsWhiteSpace(NextCodepoint(s, &j))) break;
    i = start;
  }
  return end - i;
}

size_t WhitespaceAfter(std::string_view s, size_t start) {
  size_t i = start;
  while (i < s.size()) {
    size_t j = i;
    if (!IsWhiteSpace(NextCodepoint(s, &j))) break;
    i = j;
  }
  return i - start;
}

}  // namespace

void AddedTokenMatcher::Build(const std::vector<const AddedToken*>& tokens,
                              const std::vector<std::string>& contents) {
  edges_.clear();
  terminal_.assign(1, -1);
  tokens_ = tokens;
  for (bool& b : first_byte_) b = false;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::string& c = contents[t];
    if (c.empty()) continue;
    first_byte_[static_cast<unsigned char>(c[0])] = true;
    int32_t node = 0;
    for (unsigned char b : c) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | b;
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        const auto next = static_cast<int32_t>(terminal_.size());
        terminal_.push_back(-1);
        edges_.emplace(key, next);
        node = next;
      } else {
        node = it->second;
      }
    }
    // A repeated content keeps its first token, as the first pattern wins in aho-corasick.
    if (terminal_[node] < 0) terminal_[node] = static_cast<int32_t>(t);
  }
}

void AddedTokenMatcher::Split(std::string_view s, bool match_special,
                              std::vector<Segment>* out) const {
  size_t text_start = 0;  // start of the ordinary text not yet emitted
  size_t pos = 0;
  while (pos < s.size()) {
    if (!first_byte_[static_cast<unsigned char>(s[pos])]) {
      ++pos;
      continue;
    }
    // Longest token starting at pos.
    int32_t node = 0, best = -1;
    size_t best_len = 0;
    for (size_t i = pos; i < s.size(); ++i) {
      auto it = edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(s[i]));
      if (it == edges_.end()) break;
      node = it->second;
      if (terminal_[node] >= 0) best = terminal_[node], best_len = i + 1 - pos;
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = *tokens_[best];
    size_t start = pos, stop = pos + best_len;
    pos = stop;  // the automaton resumes after the match whether or not it is kept
    if (tok.special && !match_special) continue;
    if (tok.single_word) {
      const bool start_space = start == 0 || !IsWordByte(static_cast<unsigned char>(s[start - 1]));
      const bool stop_space = stop == s.size() || !IsWordByte(static_cast<unsigned char>(s[stop]));
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) start = std::max(start - WhitespaceBefore(s, start), text_start);
    if (tok.rstrip) stop += WhitespaceAfter(s, stop);
    if (text_start < start) out->push_back({text_start, start, -1});
    out->push_back({start, stop, static_cast<int64_t>(tok.id)});
    text_start = stop;
    pos = std::max(pos, stop);
  }
  if (text_start < s.size()) out->push_back({text_start, s.size(), -1});
}

}  // namespace dg::tokenize
