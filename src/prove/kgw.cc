// Hugging Face KGW green lists and the exact binomial test; see kgw.h.
#include "prove/kgw.h"

#include <cmath>
#include <numeric>
#include <random>

#include "prove/stats.h"

namespace dg::prove {
namespace {
constexpr size_t kCacheBytes = size_t{256} << 20;
}

int64_t KgwGreenlistSize(int64_t vocab_size, double gamma) {
  if (vocab_size <= 0 || !(gamma > 0.0)) return 0;
  const double g = static_cast<double>(vocab_size) * gamma;  // Python: int(vocab_size * gamma)
  if (g >= static_cast<double>(vocab_size)) return vocab_size;
  return static_cast<int64_t>(g);
}

std::vector<uint32_t> KgwGreenlist(uint64_t hashing_key, int64_t prev, int64_t vocab_size,
                                   int64_t greenlist_size) {
  // transformers: rng.manual_seed((hashing_key * prev) % (2**64 - 1)); torch seeds MT19937 with
  // the low 32 bits. For non-negative prev below 2^63 / hashing_key the product does not wrap, so
  // its low 32 bits are those of the 64-bit product computed here.
  const uint64_t seed = hashing_key * static_cast<uint64_t>(prev);
  std::mt19937 mt(static_cast<uint32_t>(seed));
  std::vector<uint32_t> r(static_cast<size_t>(vocab_size));
  std::iota(r.begin(), r.end(), 0u);
  const int64_t n = vocab_size;
  const int64_t steps = std::min<int64_t>(greenlist_size, n - 1);
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t z = static_cast<int64_t>(mt()) % (n - i);
    std::swap(r[static_cast<size_t>(i)], r[static_cast<size_t>(i + z)]);
  }
  r.resize(static_cast<size_t>(greenlist_size));
  return r;
}

KgwScheme::KgwScheme(uint64_t hashing_key, int64_t vocab_size, double gamma)
    : hashing_key_(hashing_key),
      vocab_(vocab_size),
      green_size_(KgwGreenlistSize(vocab_size, gamma)) {}

const std::vector<uint64_t>& KgwScheme::Bits(int64_t prev) {
  auto it = cache_.find(prev);
  if (it != cache_.end()) return it->second;
  const size_t words = static_cast<size_t>((vocab_ + 63) / 64);
  if ((cache_.size() + 1) * words * 8 > kCacheBytes) cache_.clear();
  std::vector<uint64_t> bits(words, 0);
  for (uint32_t id : KgwGreenlist(hashing_key_, prev, vocab_, green_size_)) {
    bits[id >> 6] |= uint64_t{1} << (id & 63);
  }
  return cache_.emplace(prev, std::move(bits)).first->second;
}

bool KgwScheme::IsGreen(int64_t prev, int64_t token) {
  if (token < 0 || token >= vocab_) return false;
  const auto& bits = Bits(prev);
  return (bits[static_cast<size_t>(token) >> 6] >> (token & 63)) & 1;
}

double KgwScheme::Score(std::span<const int64_t> window, int64_t token) {
  return IsGreen(window.back(), token) ? 1.0 : 0.0;
}

double KgwScheme::LogP(const Tally& t) const {
  if (t.scored <= 0) return 0.0;
  return LogBinomialUpperTail(t.scored, static_cast<int64_t>(std::llround(t.statistic)),
                              green_fraction());
}

bool KgwScheme::ValidToken(int64_t token, std::string* why) const {
  if (token < 0 || token >= vocab_) {
    if (why) *why = "token id outside [0, vocab-size)";
    return false;
  }
  return true;
}

}  // namespace dg::prove
