// Reference generators: a language model's next-token distribution sampled plainly, with vLLM's
// Gumbel-max watermark, or with Hugging Face's KGW logits processor, in C++ and without a GPU.
//
// Design: the forensics study (prove/study.h) needs watermarked text that a provider running vLLM
// or transformers would have served, so each sampler follows its upstream's order of operations
// (docs/FORENSICS.md cites the files):
//  - top-k first. vLLM applies the watermark "for the final stochastic token selection after
//    temperature, min-p, top-k, and top-p"; transformers appends the watermark processor after
//    the warpers ("Watermarking should be after all logits processing is finished").
//  - vLLM Gumbel: argmax over the kept tokens of log p + G, G = -log(-log(max(u, FLT_MIN))), u the
//    Philox PRF of the key, the previous `context_width` *output* tokens (padded with -1) and the
//    candidate (prove/vllm_gumbel.h). With `dedup_contexts` (vLLM's default "single_turn"), a
//    window already used in this generation is sampled ordinarily instead (vLLM's non-distortion
//    rule). Temperature 0 is never watermarked upstream; these samplers always sample at T = 1.
//  - HF KGW: +delta on the kept tokens in the green list of the previous token (prompt included,
//    as transformers seeds from input_ids), then ordinary sampling.
// Ordinary sampling draws from an injected Rng, so every run is reproducible.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/rng.h"
#include "prove/kgw.h"
#include "prove/ngram.h"

namespace dg::prove {

enum class SamplerKind { kPlain, kVllmGumbel, kHfKgw };

struct SamplerOptions {
  SamplerKind kind = SamplerKind::kPlain;
  int top_k = 50;  // 0 or >= vocabulary: every token is a candidate
  uint64_t key = 0;
  int context_width = 4;       // vLLM: output tokens the PRF sees
  bool dedup_contexts = true;  // vLLM "single_turn": a repeated window is sampled ordinarily
  double delta = 2.0;          // KGW green bias (the green list comes from the KgwScheme)
};

// Samples up to `max_new_tokens` tokens after `prompt` from `lm`; stops before the boundary
// token (end of text). `kgw` must be given for kHfKgw (its hashing key and gamma are used).
std::vector<int64_t> GenerateText(const NgramLm& lm, std::span<const int64_t> prompt,
                                  int max_new_tokens, const SamplerOptions& o, KgwScheme* kgw,
                                  Rng& rng);

// The candidate tokens after top-k (highest probability first, ties by id), renormalised.
void TopK(const std::vector<double>& p, int k, std::vector<int64_t>* ids,
          std::vector<double>* probs);

}  // namespace dg::prove
