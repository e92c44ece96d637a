// The parts of a loaded Tokenizer (see tokenizer.h), shared by the two loaders (hf_json.cc,
// tiktoken.cc) and the encoder (tokenizer.cc).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenize/added_tokens.h"
#include "tokenize/bpe.h"
#include "tokenize/normalize.h"
#include "tokenize/pretokenize.h"
#include "tokenize/tokenizer.h"

namespace dg::tokenize {

struct Tokenizer::Impl {
  std::string name;
  // Added tokens; raw_matcher finds those matched on the raw text (Hugging Face's
  // normalized=false tokens, and tiktoken's specials), normalized_matcher the others, in the
  // normalised text between raw matches.
  std::vector<AddedToken> added;
  AddedTokenMatcher raw_matcher, normalized_matcher;
  std::vector<NormalForm> normalizer;
  std::vector<PreTokenStep> steps;
  Bpe bpe;
  // id -> bytes for Decode; known[id] false for ids with no entry.
  std::vector<std::string> id_bytes;
  std::vector<bool> known;
  uint32_t vocab_size = 0;

  // Registers id -> bytes for decoding (the first registration of an id wins).
  void SetDecode(uint32_t id, std::string_view bytes);
  // Builds the two matchers from `added` once it is complete.
  bool BuildMatchers(std::string* err);
  bool EncodeText(std::string_view text, std::vector<uint32_t>* ids, std::string* err) const;

  static std::unique_ptr<Tokenizer> Wrap(std::unique_ptr<Impl> impl) {
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
  }
};

}  // namespace dg::tokenize
