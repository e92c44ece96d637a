// A small word-level language model for the end-to-end forensics study (prove/study.h): a
// deterministic word vocabulary and an interpolated Kneser-Ney n-gram model that gives the full
// next-token distribution, so the reference watermark samplers (prove/generate.h) can run over it
// exactly as they run over a neural model's logits.
//
// Design: the study needs a teacher and students that are cheap to train on a few MB of text and
// that *learn from their training data* in the way that matters for radioactivity: a student
// trained on watermarked text reproduces, in the contexts it saw, the token choices the watermark
// made there. A high-order n-gram model with Kneser-Ney smoothing does exactly that (its top-order
// counts memorise the data; lower orders smooth). Counts are built by sorting n-gram arrays (no
// per-n-gram hash map while counting); the model keeps, per order, a hash map from context to a
// run of (token, count) followers, and Distribution() walks the orders from the unigram up,
// scaling by each context's back-off weight. Everything is deterministic given the documents.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dg::prove {

// Lower-cased words (runs of ASCII letters/digits, or of non-ASCII UTF-8 bytes) and single
// punctuation characters; whitespace separates. Deterministic and locale-free.
std::vector<std::string> SplitWords(std::string_view text);

class WordVocab {
 public:
  // Id 0 is the document boundary (end of text; also the padding before a text's first word),
  // id 1 the unknown word; then the most frequent words, ties broken by byte order.
  static constexpr int64_t kBoundary = 0, kUnknown = 1;
  static WordVocab Build(const std::vector<std::vector<std::string>>& docs, int64_t size);
  int64_t Id(std::string_view word) const;
  const std::string& Word(int64_t id) const { return words_[static_cast<size_t>(id)]; }
  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  std::vector<int64_t> Encode(const std::vector<std::string>& words) const;

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, int64_t> ids_;
};

class NgramLm {
 public:
  // `order` >= 1 (tokens of context = order - 1), at most kMaxOrder.
  static constexpr int kMaxOrder = 8;
  NgramLm(int order, int64_t vocab_size);

  // Counts every n-gram of the documents (each padded with order-1 boundaries before it and one
  // boundary after it) and fits interpolated Kneser-Ney with per-order discounts
  // D = n1 / (n1 + 2 n2) (Chen & Goodman). Replaces any earlier training.
  void Train(const std::vector<std::vector<int64_t>>& docs);

  // Next-token probabilities after `history` (its last order-1 tokens; a shorter history is
  // padded with boundaries). `p` is resized to the vocabulary and sums to 1; every entry > 0.
  void Distribution(std::span<const int64_t> history, std::vector<double>* p) const;

  int order() const { return order_; }
  int64_t vocab_size() const { return vocab_; }
  int64_t trained_tokens() const { return trained_tokens_; }

 private:
  struct Node {
    uint32_t total = 0;     // sum of follower counts
    uint32_t distinct = 0;  // number of distinct followers
    uint32_t begin = 0;     // followers_[begin, begin + distinct)
  };
  struct Follower {
    uint32_t token;
    uint32_t count;
  };
  struct Level {                 // one order n >= 2: contexts of n-1 tokens
    std::vector<uint64_t> keys;  // sorted context keys
    std::vector<Node> nodes;     // nodes[i] belongs to keys[i]
    std::vector<Follower> followers;
    double discount = 0.75;
    const Node* Find(uint64_t key) const;
  };
  // 64-bit XXH3 of the context's ids: two contexts of one order share a key with probability
  // 2^-64 per pair, which would only blend their followers.
  static uint64_t ContextKey(std::span<const uint32_t> ctx);

  int order_;
  int64_t vocab_;
  int64_t trained_tokens_ = 0;
  std::vector<double> unigram_;  // interpolated unigram (continuation counts + uniform)
  std::vector<Level> levels_;    // levels_[n - 2] for order n
};

}  // namespace dg::prove
