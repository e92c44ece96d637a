// Watermark detection and radioactivity over token sequences: which (context window, token)
// tuples are scored, deduplicated how, and the exact p-value of their summed scores.
//
// Design: a watermark score is valid evidence only if, under the null (text produced without the
// key), the kept scores are independent draws of the null law. A PRF returns the same value for
// the same input, so a repeated (window, token) tuple repeats its score exactly: counting it
// twice counts one coin flip twice. Each Accumulator therefore keeps a set of 128-bit XXH3
// fingerprints of the tuples it has scored (per text, and across texts for the pooled result)
// and scores a tuple once. vLLM's own detector deduplicates by window alone (stricter, fewer
// tuples); Dedup::kContext reproduces that count. Radioactivity keeps only tuples whose window is
// in an optional allowed set (the windows of the watermarked data the suspect may have learned).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "prove/scheme.h"

namespace dg::prove {

enum class Dedup { kPair, kContext, kNone };

struct Fingerprint {
  uint64_t lo = 0, hi = 0;
  bool operator==(const Fingerprint&) const = default;
};
struct FingerprintHash {
  size_t operator()(const Fingerprint& f) const { return static_cast<size_t>(f.lo ^ f.hi); }
};
using FingerprintSet = std::unordered_set<Fingerprint, FingerprintHash>;

// Fingerprint of a window alone, or of a window and its token.
Fingerprint WindowPrint(std::span<const int64_t> window);
Fingerprint TuplePrint(std::span<const int64_t> window, int64_t token);

// Calls f(window, token) for every scored position of `tokens` under `scheme`'s windowing.
template <typename F>
void ForEachTuple(const Scheme& scheme, std::span<const int64_t> tokens, F&& f);

class Accumulator {
 public:
  Accumulator(Scheme& scheme, Dedup dedup) : scheme_(scheme), dedup_(dedup) {}
  // Only windows in `allowed` are scored from now on (radioactivity with watermarked data).
  void RestrictWindows(FingerprintSet allowed) { allowed_ = std::move(allowed); }
  // Scores one text: returns its own tally (deduplicated within it) and adds its tuples not yet
  // seen in any earlier text to the pooled tally.
  Tally AddText(std::span<const int64_t> tokens);
  const Tally& pooled() const { return pooled_; }
  double Log10P(const Tally& t) const;

 private:
  Scheme& scheme_;
  Dedup dedup_;
  std::optional<FingerprintSet> allowed_;
  FingerprintSet pooled_seen_, text_seen_;
  Tally pooled_;
};

// Schemes by name: "vllm-gumbel" or "hf-kgw". Returns null and sets *err on bad parameters.
struct SchemeOptions {
  std::string scheme;
  uint64_t key = 0;
  int context_width = 4;
  double gamma = 0.25;
  int64_t vocab_size = 0;
};
std::unique_ptr<Scheme> MakeScheme(const SchemeOptions& o, std::string* err);

// A JSONL file of {"id": "...", "tokens": [ids]}. Bad lines are reported as "line N: reason" in
// `errors` and skipped; a line with no id gets "line-N". Returns false (and *err) only if the
// file cannot be read.
struct TokenText {
  std::string id;
  std::vector<int64_t> tokens;
};
bool ReadTokenJsonl(const std::string& path, const Scheme& scheme, std::vector<TokenText>* texts,
                    std::vector<std::string>* errors, std::string* err);

// --- implementation of the template ---
template <typename F>
void ForEachTuple(const Scheme& scheme, std::span<const int64_t> tokens, F&& f) {
  const size_t w = static_cast<size_t>(scheme.context_width());
  if (scheme.pads_context()) {
    std::vector<int64_t> window(w, -1);
    for (int64_t t : tokens) {
      f(std::span<const int64_t>(window), t);
      if (w > 0) {
        window.erase(window.begin());
        window.push_back(t);
      }
    }
  } else {
    for (size_t i = w; i < tokens.size(); ++i) f(tokens.subspan(i - w, w), tokens[i]);
  }
}

}  // namespace dg::prove
