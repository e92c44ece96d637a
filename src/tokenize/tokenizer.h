// Byte-level BPE tokenizers, id for id with the libraries that the models ship: a Hugging Face
// `tokenizer.json` (Qwen, Llama 3, DeepSeek V3 and the other GPT-2-style byte-level models) or a
// tiktoken rank file (OpenAI's cl100k_base, o200k_base). Forensics (prove/) needs the exact ids a
// model saw or emitted: one id off shifts every watermark window after it.
//
// Design: one pipeline for both formats, each stage a small data structure built at load time:
//   1. added/special tokens cut out of the raw text (a byte trie, leftmost-longest, as Hugging
//      Face's aho-corasick and tiktoken's special regex find them);
//   2. normalisation of the rest (NFC/NFD/NFKC/NFKD via utf8proc);
//   3. pre-tokenisation: a sequence of regex splits (PCRE2 with JIT, Unicode properties) with
//      Hugging Face's split behaviours;
//   4. byte-level BPE on each piece: symbols are ids, merges a hash map from an id pair to
//      (rank, merged id); the lowest rank, leftmost, merges first (a heap, O(n log n) on long
//      pieces). tiktoken's rule "merge the adjacent pair whose concatenation has the lowest rank"
//      is the same map, built from every split of every token into two tokens.
// Loading validates everything; encoding cannot fail except on invalid UTF-8 or a regex engine
// error (both reported, never thrown). A loaded Tokenizer is immutable and safe to share between
// threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dg::tokenize {

struct EncodeOptions {
  // True: added/special tokens written in the text ("<|im_end|>") become their ids, as Hugging
  // Face's encode() and tiktoken's encode(allowed_special="all") do. False: they are ordinary
  // text (tiktoken's encode_ordinary, Hugging Face's split_special_tokens=True; non-special added
  // tokens of a tokenizer.json still match, as there).
  bool match_special = true;
};

class Tokenizer {
 public:
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Loads `path`: a tokenizer.json if its first non-blank byte is '{', else a tiktoken rank file
  // whose encoding (split regex and special tokens) is named by the file name (cl100k_base or
  // o200k_base in it) or, failing that, recognised by its number of ranks. Null and *err on
  // failure.
  static std::unique_ptr<Tokenizer> Load(const std::string& path, std::string* err);
  static std::unique_ptr<Tokenizer> FromHuggingFaceJson(std::string_view json, std::string* err);
  // `encoding`: "cl100k_base" or "o200k_base". `ranks`: the rank file ("<base64> <rank>" lines).
  static std::unique_ptr<Tokenizer> FromTiktoken(std::string_view ranks, std::string_view encoding,
                                                 std::string* err);

  // Appends the ids of `text` to *ids. False and *err (naming the byte offset) if `text` is not
  // valid UTF-8 (nothing is appended then), or if the regex engine fails.
  bool Encode(std::string_view text, std::vector<uint32_t>* ids, std::string* err,
              const EncodeOptions& options = {}) const;
  // The bytes of `ids` (added tokens as their text). Unknown ids are skipped and counted in
  // *unknown if given. Decode(Encode(t)) == t for normalisation-free tokenizers.
  std::string Decode(std::span<const uint32_t> ids, size_t* unknown = nullptr) const;

  // One more than the largest id of the vocabulary and the added tokens.
  uint32_t vocab_size() const;
  // The largest token id a loader accepts. Real vocabularies are dense and below 300k ids; the
  // decode table is indexed by id, so a file naming id 4e9 would otherwise allocate ~128 GB.
  static constexpr uint32_t kMaxTokenId = (1u << 22) - 1;
  // "tokenizer.json" or the tiktoken encoding name.
  const std::string& name() const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Replaces each maximal invalid UTF-8 subsequence of `s` by U+FFFD (the WHATWG / Unicode
// "substitution of maximal subparts" rule, which is what Node's TextDecoder and Python's
// errors="replace" do). Returns the number of replacements.
size_t ReplaceInvalidUtf8(std::string* s);
// Offset of the first invalid byte of `s`, or npos if `s` is valid UTF-8.
size_t FirstInvalidUtf8(std::string_view s);

}  // namespace dg::tokenize
