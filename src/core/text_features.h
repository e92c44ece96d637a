// TextFeatures: the fixed-size fingerprint of one text (a prompt, a system message) that an
// EventRecord carries. Only the layout lives here, at the bottom layer, so that state, linking and
// the engine can hold it without depending on how it is computed; features/text.h computes it and
// documents each field's normalisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace dg::core {

inline constexpr size_t kMinhashBins = 8;
inline constexpr size_t kAnchors = 8;

struct TextFeatures {      // fixed size, trivially copyable
  uint64_t exact_hash;     // hash of normalised text (case-folded, whitespace/punct collapsed)
  uint64_t skeleton_hash;  // template id: normalised text with variable parts masked
  uint64_t prefix_hash;    // skeleton hash of the first ~8 words (template prefix)
  uint64_t suffix_hash;    // skeleton hash of the last ~8 words (template suffix)
  uint64_t simhash;        // 64-bit SimHash over word 3-shingles
  uint32_t minhash[kMinhashBins];  // one-permutation MinHash over word 3-shingles
  uint32_t chars, words, lines;    // code points (lead bytes), exact-stream words, lines
  uint32_t digits, non_ascii_chars;
  uint32_t phrase_mask;  // bit per PhraseCategory matched (see features/phrases.h)
  uint16_t script;       // features::ScriptBucket of the dominant script among letters
  // Content-defined chunks of the raw bytes: the kAnchors chunks of smallest hash (a consistent
  // sample: a fixed block of text yields the same anchors in every text that holds it), as a
  // 32-bit hash each and their byte lengths (0 = no chunk), and the text's length in bytes.
  uint32_t anchor_hash[kAnchors];
  uint16_t anchor_len[kAnchors];
  uint32_t bytes;
};
static_assert(std::is_trivially_copyable_v<TextFeatures>);

}  // namespace dg::core
