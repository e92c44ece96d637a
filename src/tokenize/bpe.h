// The BPE model: a vocabulary of byte strings and a merge table over id pairs.
//
// Design: a piece (one pre-token, raw bytes) starts as one symbol per byte; the adjacent pair
// with the lowest merge rank, leftmost among equal ranks, is merged until no pair is in the
// table. That is Hugging Face's BPE (merges in file order are the ranks) and tiktoken's
// byte_pair_merge (the rank of a pair is the rank of its concatenation) alike. Pairs are keyed by
// (left id << 32 | right id) in a flat hash map. Short pieces (almost all of them) run a linear
// scan over a small array, as tiktoken does; longer ones a heap with lazy invalidation, as Hugging
// Face does, so a 100 kB whitespace run is O(n log n), not O(n^2). Both give the same result
// (tests/tokenize/bpe_test.cc checks it on random merge tables).
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dg::tokenize {

class Bpe {
 public:
  struct Merge {
    uint32_t rank;
    uint32_t id;
  };

  // Vocabulary entry: raw bytes -> id. A later entry with the same bytes replaces the earlier.
  void AddToken(std::string_view bytes, uint32_t id);
  // Merge of (left, right) into `merged` at `rank` (lower merges first). A repeated pair takes
  // the later rank, as a Hugging Face merges list read into a map does.
  void AddMerge(uint32_t left, uint32_t right, uint32_t rank, uint32_t merged);
  // The whole piece, if in the vocabulary, is one token before any merging (tiktoken always;
  // Hugging Face's `ignore_merges`, e.g. Llama 3).
  void set_direct_lookup(bool on) { direct_lookup_ = on; }
  // A byte with no vocabulary entry becomes `unk` (merged with a preceding unk if `fuse`), or is
  // dropped without one: Hugging Face's behaviour for a BPE without that byte.
  void set_unknown(std::optional<uint32_t> unk, bool fuse) { unk_ = unk, fuse_unk_ = fuse; }

  // Capacity hints for loading (0: no hint).
  void Reserve(size_t tokens, size_t merges) {
    if (tokens) vocab_.reserve(tokens);
    if (merges) merges_.reserve(merges);
  }

  std::optional<uint32_t> Find(std::string_view bytes) const;
  const Merge* FindMerge(uint32_t left, uint32_t right) const;
  size_t num_tokens() const { return vocab_.size(); }
  size_t num_merges() const { return merges_.size(); }

  // Appends the ids of one piece.
  void Encode(std::string_view piece, std::vector<uint32_t>* out) const;
  // The two algorithms, exposed for tests; Encode picks by length.
  void EncodeLinear(std::string_view piece, std::vector<uint32_t>* out) const;
  void EncodeHeap(std::string_view piece, std::vector<uint32_t>* out) const;

 private:
  // Initial symbols (one per byte, unknown bytes resolved); false if none.
  void InitialSymbols(std::string_view piece, std::vector<uint32_t>* syms) const;

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  boost::unordered_flat_map<std::string, uint32_t, StringHash, std::equal_to<>> vocab_;
  boost::unordered_flat_map<uint64_t, Merge> merges_;
  int64_t byte_id_[256];
  bool byte_init_ = false;
  bool direct_lookup_ = false;
  std::optional<uint32_t> unk_;
  bool fuse_unk_ = false;

 public:
  Bpe();
};

}  // namespace dg::tokenize
