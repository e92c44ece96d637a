// UTF-8 validation helpers. Whole-line validation uses simdjson's SIMD validator; the per-sequence
// helper serves the JSON writer when it must replace invalid bytes.
#pragma once

#include <cstddef>
#include <string_view>

namespace dg {

// Length (1-4) of the valid UTF-8 sequence at the start of `s`, or 0 if it is invalid.
size_t Utf8SequenceLength(std::string_view s);

// True if all of `s` is valid UTF-8 (SIMD-accelerated).
bool IsValidUtf8(std::string_view s);

}  // namespace dg
