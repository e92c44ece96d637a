// vLLM Gumbel watermark: the Philox PRF as vLLM lays it out (see vllm_gumbel.h, docs/PROVE.md).
#include "prove/vllm_gumbel.h"

#include <cfloat>
#include <cmath>
#include <limits>

#include "prove/stats.h"

namespace dg::prove {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Philox multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
// Domain-separation words vLLM mixes in: "WMCX" for the context absorption, "WMTK" for the token.
constexpr uint32_t kContextDomain = 0x574D4358u, kTokenDomain = 0x574D544Bu;

inline uint32_t Word(int64_t v) { return static_cast<uint32_t>(static_cast<uint64_t>(v)); }

}  // namespace

std::array<uint32_t, 4> Philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(kM0) * c[0];
    uint64_t p1 = static_cast<uint64_t>(kM1) * c[2];
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    k[0] += kW0;
    k[1] += kW1;
  }
  return c;
}

uint32_t VllmPhiloxWord(uint64_t key, std::span<const int64_t> context, int64_t token) {
  const uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  const size_t width = context.size();
  // Absorb the context four words at a time: state ^= block, state = Philox(state, key ^ offset).
  // The state starts as (domain, width, 0, 0); a short last block is padded with 2^32-1-index.
  std::array<uint32_t, 4> state = {kContextDomain, static_cast<uint32_t>(width), 0u, 0u};
  for (size_t offset = 0; offset < width; offset += 4) {
    std::array<uint32_t, 4> block;
    for (size_t i = 0; i < 4; ++i) {
      block[i] = offset + i < width ? Word(context[offset + i]) : 0xFFFFFFFFu - uint32_t(i);
    }
    for (size_t i = 0; i < 4; ++i) state[i] ^= block[i];
    state = Philox4x32_10(state, {k0 ^ static_cast<uint32_t>(offset), k1});
  }
  // Squeeze: counter (token / 4, s0, s1, s2), key (k0 ^ s3, k1 ^ token domain); the token's low
  // two bits pick one of the four output words.
  const uint32_t t = Word(token);
  std::array<uint32_t, 4> out =
      Philox4x32_10({t >> 2, state[0], state[1], state[2]}, {k0 ^ state[3], k1 ^ kTokenDomain});
  return out[t & 3u];
}

float VllmUniform(uint32_t word) {
  const double mantissa = static_cast<double>(word >> 8);
  return static_cast<float>((mantissa + 1.0) / (16777216.0 + 1.0));
}

double VllmGumbelScore(uint64_t key, std::span<const int64_t> context, int64_t token) {
  const double u = VllmUniform(VllmPhiloxWord(key, context, token));
  return -std::log1p(-u);
}

int64_t VllmGumbelSample(uint64_t key, std::span<const int64_t> context,
                         std::span<const double> logits) {
  int64_t best = -1;
  double best_value = -std::numeric_limits<double>::infinity();
  for (size_t v = 0; v < logits.size(); ++v) {
    float u = VllmUniform(VllmPhiloxWord(key, context, static_cast<int64_t>(v)));
    if (u < FLT_MIN) u = FLT_MIN;
    const double value = logits[v] - std::log(-std::log(static_cast<double>(u)));
    if (best < 0 || value > best_value) {
      best = static_cast<int64_t>(v);
      best_value = value;
    }
  }
  return best;
}

double VllmGumbelScheme::LogP(const Tally& t) const {
  if (t.scored <= 0) return 0.0;
  return LogGammaUpperTail(static_cast<double>(t.scored), t.statistic);
}

bool VllmGumbelScheme::ValidToken(int64_t token, std::string* why) const {
  if (token < 0 || token > 0xFFFFFFFFll) {
    if (why) *why = "token id outside [0, 2^32)";
    return false;
  }
  return true;
}

}  // namespace dg::prove
