// A watermark scheme as forensics sees it: how a text is cut into scored (context window, token)
// tuples, the null-distributed score of one tuple, and the exact tail of the summed scores.
//
// Design: detection and radioactivity differ only in which tuples they keep (all of one text, all
// of a corpus, or those whose window the watermarked data contains); the scheme itself is a small
// interface so both commands, and both schemes (vLLM's Gumbel sampling, Hugging Face's KGW green
// lists), share the deduplication in prove/detect.h. Scores are doubles: -log(1-u) for Gumbel,
// 0/1 (green) for KGW. No method throws; Score() sits on the per-token path.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace dg::prove {

// Running total of the tuples kept: their number and the sum of their scores.
struct Tally {
  int64_t scored = 0;
  double statistic = 0.0;
};

class Scheme {
 public:
  virtual ~Scheme() = default;
  virtual const char* name() const = 0;
  // Tokens of context a tuple's score depends on (the window).
  virtual int context_width() const = 0;
  // True: the first tokens of a text are scored with windows padded by -1 (vLLM). False: scoring
  // starts at position context_width() (Hugging Face's detector).
  virtual bool pads_context() const = 0;
  // Score of `token` after `window` (context_width() tokens, oldest first).
  virtual double Score(std::span<const int64_t> window, int64_t token) = 0;
  // Natural log of the null probability of a statistic at least this large over this many tuples.
  virtual double LogP(const Tally& t) const = 0;
  // False (and a reason) if `token` cannot be a token id of this scheme.
  virtual bool ValidToken(int64_t token, std::string* why) const = 0;
};

}  // namespace dg::prove
