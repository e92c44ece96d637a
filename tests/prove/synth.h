// Synthetic language models for the prove tests: a bigram "teacher" with random logits over a
// small vocabulary, sampled plainly, with vLLM's Gumbel watermark, or with a KGW green bias.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "prove/kgw.h"
#include "prove/vllm_gumbel.h"

namespace dg::prove::synth {

struct BigramLm {
  int64_t vocab;
  std::vector<double> logits;  // vocab x vocab, row = previous token
  BigramLm(int64_t v, uint64_t seed, double scale = 1.5) : vocab(v), logits(v * v) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> nd(0.0, scale);
    for (auto& l : logits) l = nd(rng);
  }
  std::span<const double> Row(int64_t prev) const {
    return std::span<const double>(logits).subspan(static_cast<size_t>(prev * vocab), vocab);
  }
  int64_t SamplePlain(int64_t prev, std::mt19937_64& rng) const {
    auto row = Row(prev);
    std::vector<double> w(row.size());
    for (size_t i = 0; i < w.size(); ++i) w[i] = std::exp(row[i]);
    return std::discrete_distribution<int64_t>(w.begin(), w.end())(rng);
  }
};

// A text of `len` tokens after a random first token. With `key`, tokens come from vLLM's Gumbel
// sampler over the previous `width` outputs (padded with -1, as vLLM's detector assumes).
inline std::vector<int64_t> Generate(const BigramLm& lm, int len, std::mt19937_64& rng,
                                     const uint64_t* key = nullptr, int width = 4) {
  std::vector<int64_t> out;
  std::vector<int64_t> window(width, -1);
  int64_t prev = static_cast<int64_t>(rng() % lm.vocab);
  for (int i = 0; i < len; ++i) {
    int64_t t = key ? VllmGumbelSample(*key, window, lm.Row(prev)) : lm.SamplePlain(prev, rng);
    out.push_back(t);
    window.erase(window.begin());
    window.push_back(t);
    prev = t;
  }
  return out;
}

inline std::vector<int64_t> UniformText(int64_t vocab, int len, std::mt19937_64& rng) {
  std::vector<int64_t> out(len);
  for (auto& t : out) t = static_cast<int64_t>(rng() % vocab);
  return out;
}

}  // namespace dg::prove::synth
