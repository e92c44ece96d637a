// Hashing: XXH3 everywhere (64-bit), seeded per use so indicator kinds never collide.
#pragma once

// XXH3 is compiled into each caller (XXH_INLINE_ALL): word hashing calls it per word on the
// per-event path, where a call into the shared library cost more than the hash of a short word.
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace dg {

inline uint64_t Hash64(std::string_view s, uint64_t seed = 0) {
  return XXH3_64bits_withSeed(s.data(), s.size(), seed);
}
inline uint64_t HashMix(uint64_t a, uint64_t b) { return XXH3_64bits_withSeed(&a, sizeof(a), b); }

}  // namespace dg
