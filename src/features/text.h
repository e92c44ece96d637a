// Per-event text features: fixed-size, allocation-free fingerprints of prompt text.
//
// Design. One left-to-right tokenising pass (plus a cheap byte-counting pass and the Hyperscan scan
// of phrases.h) turns the text into two token streams, hashed on the fly into fixed-size state:
//  * the *exact* stream: words = runs of ASCII alphanumerics / non-ASCII letters, lower-cased
//    (ASCII, Latin-1 and Cyrillic case folding); every CJK ideograph / kana is its own word;
//    whitespace and punctuation only separate words. exact_hash, SimHash (64 bit, over word
//    3-shingles) and one-permutation MinHash (8 bins, rotation densified) come from it, so "Hello,
//    World!" and "hello   world" hash alike.
//  * the *skeleton* stream (template identity): the same words, but
//      - any word containing a digit -> '#' (runs like "$60/60=" collapse to one '#'),
//      - a whitespace-delimited chunk that is a URL -> <u>, an e-mail -> <e>, words > 24 bytes ->
//      <l>,
//      - quoted spans ("…", “…”, «…», 「…」, `…`, ```code```) -> <q> ('"' only opens after a
//        non-word char; plain-quote spans stop at a blank line),
//      - *variable regions* -> <v>: a colon followed by whitespace (':' or '：') opens a region
//      that
//        swallows everything up to the next *label line* (a line that starts with <= 4 words and a
//        colon, optionally behind '#', '*', '-', '>' marks, e.g. "### Response:", "Question:",
//        "A:") or the end of text. The label words stay in the skeleton.
//    So "Translate the following sentence into French: X", Alpaca's "… ### Instruction:\nX\n\n###
//    Response:" and MetaMath's few-shot "Question: X\nA: …" wrappers keep one skeleton for any X.
//  * prefix_hash / suffix_hash: hash of the first / last kAffixWords skeleton tokens; the window is
//    cut at the first (last) sentence boundary (. ? ! ; newline, CJK full stops) that leaves >= 3
//    tokens, so an appended "Let's think step by step." yields the same suffix whatever precedes
//    it.
//  * anchors: the text's raw bytes cut into content-defined chunks (a gear rolling hash picks the
//    boundaries, kChunkMin..kChunkMax bytes, about kChunkMin + 256 on average), each hashed with
//    XXH3; the kAnchors chunks of smallest hash are kept. From 128 bytes into a chunk a boundary
//    depends on the 64 bytes before it only, so two texts that share a long block fall into step
//    at its first such boundary: a block repeated from request to request (a few-shot preamble, a
//    fixed instruction before or after the varying part) gives the same chunks, but for its
//    first and last, wherever it sits, and the smallest-hash rule picks the same ones each time. The engine counts how much of
//    an account's input it has not seen before (state::AccountState::novel_bytes).
//
// Limits (known): the variable region is only found after a colon; a template whose slot is not
// introduced by "label:" (e.g. "Answer this: " works, "Summarise X in one line" does not) is only
// caught by prefix/suffix hashes. Fills that themselves contain label lines ("Sentence 1: …")
// change the skeleton. Case folding is ASCII + Latin-1 + Cyrillic only; no Unicode normalisation
// (NFC/NFKC) or homoglyph folding, so a determined attacker can perturb exact/skeleton hashes
// (SimHash/MinHash degrade gracefully). Scripts without spaces other than CJK/kana (e.g. Thai) form
// one long word per run. All hashes are 0 and minhash bins 0xFFFFFFFF for text without words.
//
// Hot path: TextFeaturizer is per thread; Compute never allocates except when a multi-part input is
// longer than any seen before (the join buffer grows) or invalid UTF-8 larger than before reaches
// the phrase matcher. No exceptions on the data path.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/text_features.h"
#include "features/phrases.h"

namespace dg::features {

enum ScriptBucket : uint16_t {
  kScriptNone = 0,  // no letters
  kScriptLatin = 1,
  kScriptCyrillic = 2,
  kScriptCjk = 3,  // Han, kana, Hangul
  kScriptArabic = 4,
  kScriptOther = 5,
};
const char* ScriptBucketName(uint16_t script);

using core::kMinhashBins;
inline constexpr size_t kAffixWords = 8;
inline constexpr size_t kChunkMin = 64, kChunkMax = 2048;
using core::kAnchors;
// Separator placed between parts of a multi-part input: Compute(parts) == Compute(joined text).
inline constexpr std::string_view kPartSeparator = "\n";

// The layout lives in core/ (an EventRecord carries it); computed here.
using core::TextFeatures;

// Text-only features: phrase_mask holds only the categories the tokeniser decides from word
// lists (kFirstPerson for Latin-script words); TextFeaturizer ORs in the phrase scan. Stateless and
// allocation-free; usable anywhere.
void ComputeTextFeatures(std::string_view text, TextFeatures& out);
// exact_hash of `text` alone (same normalisation as TextFeatures::exact_hash).
uint64_t NormalisedHash(std::string_view text);
// skeleton_hash of `text` alone.
uint64_t SkeletonHash(std::string_view text);

// Hamming distance between two SimHashes (0 = identical, ~32 = unrelated).
inline int SimhashDistance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }
// Fraction of equal MinHash bins, in [0,1] (estimates Jaccard similarity of shingle sets).
double MinhashSimilarity(const TextFeatures& a, const TextFeatures& b);
double MinhashSimilarity(const uint32_t (&a)[kMinhashBins], const uint32_t (&b)[kMinhashBins]);

class TextFeaturizer {
 public:
  explicit TextFeaturizer(const PhraseMatcherDb& db = PhraseMatcherDb::Default());  // per thread
  TextFeaturizer(const TextFeaturizer&) = delete;
  TextFeaturizer& operator=(const TextFeaturizer&) = delete;

  // Features of the concatenation of `parts` joined by kPartSeparator.
  void Compute(std::span<const std::string_view> parts, TextFeatures& out);
  void Compute(std::string_view text, TextFeatures& out);

 private:
  PhraseMatcher matcher_;
  std::string joined_;  // reused join buffer for multi-part inputs
};

}  // namespace dg::features
