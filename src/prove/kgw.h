// Hugging Face transformers' KGW watermark (WatermarkLogitsProcessor / WatermarkDetector with the
// default "lefthash" seeding): the green list after token t is the first floor(gamma * V) entries
// of torch.randperm(V) drawn from a CPU generator seeded with hashing_key * t; generation adds
// delta to green logits; detection counts green tokens.
//
// Design: torch's CPU generator is MT19937 seeded with the low 32 bits of the seed, and its
// randperm (n < 2^32/20) a forward Fisher-Yates shuffle: for i in [0, n-1) swap r[i] with
// r[i + random() % (n - i)], random() one 32-bit MT19937 output. Positions [0, G) are final after
// G steps, so the green list needs only G draws. Checked bit for bit against PyTorch 1.13.1's own
// randperm (tests/prove/data/kgw_torch_vectors.tsv); PyTorch 2.x is unverified (docs/PROVE.md).
// The p-value is the exact binomial tail with p = G / V (transformers' detector uses a normal
// approximation).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "prove/scheme.h"

namespace dg::prove {

inline constexpr uint64_t kHfKgwHashingKey = 15485863;

// Number of green tokens: int(vocab_size * gamma) as in transformers.
int64_t KgwGreenlistSize(int64_t vocab_size, double gamma);

// The green list after `prev` (its ids in randperm order), as transformers computes it.
std::vector<uint32_t> KgwGreenlist(uint64_t hashing_key, int64_t prev, int64_t vocab_size,
                                   int64_t greenlist_size);

class KgwScheme final : public Scheme {
 public:
  KgwScheme(uint64_t hashing_key, int64_t vocab_size, double gamma);
  const char* name() const override { return "hf-kgw"; }
  int context_width() const override { return 1; }
  bool pads_context() const override { return false; }
  double Score(std::span<const int64_t> window, int64_t token) override;
  double LogP(const Tally& t) const override;
  bool ValidToken(int64_t token, std::string* why) const override;

  bool IsGreen(int64_t prev, int64_t token);
  int64_t greenlist_size() const { return green_size_; }
  int64_t vocab_size() const { return vocab_; }
  // Null probability that a token is green: greenlist_size / vocab_size.
  double green_fraction() const { return static_cast<double>(green_size_) / vocab_; }

 private:
  const std::vector<uint64_t>& Bits(int64_t prev);
  uint64_t hashing_key_;
  int64_t vocab_;
  int64_t green_size_;
  // Green-list bitsets by previous token, dropped wholesale past a memory cap.
  std::unordered_map<int64_t, std::vector<uint64_t>> cache_;
};

}  // namespace dg::prove
