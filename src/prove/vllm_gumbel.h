// vLLM's native watermark (vllm/v1/watermarking/): Gumbel-max sampling keyed by a Philox4x32-10
// pseudo-random function of a 64-bit key, the previous `context_width` output tokens and the
// candidate token, and its detector (sum of -log(1-u) over scored tokens, Gamma(n, 1) tail).
//
// Design: the PRF is reimplemented word for word so that a provider running vLLM can prove its
// watermark without Python or a GPU. How key, context and token enter Philox is not a plain
// "counter = context" layout; it is documented in docs/PROVE.md and pinned by vLLM's own test
// vector (tests/prove/vllm_gumbel_test.cc). All functions are pure and allocation-free.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "prove/scheme.h"

namespace dg::prove {

// The Philox4x32-10 block function (Salmon et al., SC'11): 10 rounds, key bumped between rounds.
std::array<uint32_t, 4> Philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// vLLM's PhiloxPRF(key).uint32(context, token) for one context row and one token, stream 0.
// Context ids (including the -1 padding) and the token are taken modulo 2^32, as vLLM does.
uint32_t VllmPhiloxWord(uint64_t key, std::span<const int64_t> context, int64_t token);

// vLLM's uint32_to_uniform: the top 24 bits m of the word give (m + 1) / (2^24 + 1), rounded to
// float32 (vLLM scores the float32 value). Always in (0, 1).
float VllmUniform(uint32_t word);

// One token's detection score, -log1p(-u) in double precision over the float32 u.
double VllmGumbelScore(uint64_t key, std::span<const int64_t> context, int64_t token);

// Reference sampler (vLLM's CPU path): argmax over the vocabulary of logits[v] + Gumbel noise,
// the noise -log(-log(u)) with u = VllmUniform(word(context, v)) clamped to FLT_MIN.
int64_t VllmGumbelSample(uint64_t key, std::span<const int64_t> context,
                         std::span<const double> logits);

class VllmGumbelScheme final : public Scheme {
 public:
  VllmGumbelScheme(uint64_t key, int context_width) : key_(key), width_(context_width) {}
  const char* name() const override { return "vllm-gumbel"; }
  int context_width() const override { return width_; }
  bool pads_context() const override { return true; }
  double Score(std::span<const int64_t> window, int64_t token) override {
    return VllmGumbelScore(key_, window, token);
  }
  double LogP(const Tally& t) const override;
  bool ValidToken(int64_t token, std::string* why) const override;

 private:
  uint64_t key_;
  int width_;
};

}  // namespace dg::prove
