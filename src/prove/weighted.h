// Count-weighted radioactivity for binary-score schemes (HF KGW): each distinct (window, token)
// tuple of the suspect's answers is scored once, as in prove/detect.h, but weighted by a small
// integer function of how often the suspect produced it, and the weighted green count is tested
// against its exact null law.
//
// Design: a valid test may not count a repeated tuple as new evidence (its PRF output is the same
// draw), but it may use the *number* of repeats as a known weight. Under the null the suspect's
// answers do not depend on the key, so the tuples' counts c_i are fixed before the key's green
// lists are drawn, and S = sum_i w(c_i) g_i, g_i the green flags of the distinct tuples, is a sum
// of independent Bernoulli(gamma') flags with known integer weights (the same ideal-PRF model as
// the binomial test). Its law is computed exactly by convolving one binomial per weight class
// (n_k tuples of weight k contribute k * Bin(n_k, gamma')), in linear space down to 1e-300; a
// tail below that is bounded by Chernoff's inequality, which also holds for the exact
// without-replacement green lists (their flags are negatively associated). The idea is that a
// student that learned watermarked text repeats green tuples more often than red ones, which the
// presence of a tuple (weight 1) ignores; in the study (docs/FORENSICS.md) no weight function gave
// a consistent gain, so the study reports it only on request. The same file holds KGW's exact law
// of the unweighted green count (HypergeometricSumLaw).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "prove/detect.h"
#include "prove/scheme.h"

namespace dg::prove {

enum class CountWeight {
  kOne,   // every distinct tuple counts 1 (the binomial test)
  kLog2,  // floor(log2 c) + 1
  kSqrt,  // ceil(sqrt c)
  kCap4,  // min(c, 4)
  kRare,  // 2 for a tuple seen once, 1 otherwise
  kInv3,  // max(1, 4 - c): 3, 2, then 1
  kFew4,  // 1 if c <= 4, else 0 (frequent tuples dropped)
};
int64_t WeightOf(CountWeight w, int64_t count);
bool ParseCountWeight(std::string_view s, CountWeight* w);
const char* CountWeightName(CountWeight w);

// The distinct (window, token) tuples of pooled texts and how often each occurs, optionally
// restricted to allowed windows (as Accumulator::RestrictWindows).
class TupleCounter {
 public:
  struct Entry {
    std::vector<int64_t> window;
    int64_t token = 0;
    int64_t count = 0;
  };
  explicit TupleCounter(const Scheme& scheme) : scheme_(scheme) {}
  void RestrictWindows(const FingerprintSet* allowed) { allowed_ = allowed; }
  void AddText(std::span<const int64_t> tokens);
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  const Scheme& scheme_;
  const FingerprintSet* allowed_ = nullptr;
  std::unordered_map<Fingerprint, size_t, FingerprintHash> index_;
  std::vector<Entry> entries_;
};

// n_by_weight[k] = number of tuples of weight k (index 0 unused).
std::vector<int64_t> WeightClasses(const std::vector<TupleCounter::Entry>& e, CountWeight w);

// The null law of S = sum_k k * B_k, B_k ~ Bin(n_k, p) independent.
class WeightedBernoulliLaw {
 public:
  WeightedBernoulliLaw(std::vector<int64_t> n_by_weight, double p);
  // log P[S >= s]; never below the true value (conservative): the exact tail plus the mass
  // dropped below 1e-300, or the Chernoff bound when that is smaller.
  double LogUpperTail(int64_t s) const;
  double LogChernoff(int64_t s) const;
  int64_t max_sum() const { return max_; }
  double mean() const;
  int64_t tuples() const;

 private:
  std::vector<int64_t> n_;
  double p_;
  int64_t max_ = 0;
  int64_t lo_ = 0;  // tail_[i] = P[S >= lo_ + i]
  std::vector<double> tail_;
  double dropped_ = 0;  // probability mass not represented (each entry < 1e-300)
};

// The exact null law of KGW's green count over distinct (previous token, token) tuples. A green
// list is a uniformly random subset of exactly G of the V ids, drawn independently per previous
// token (the ideal-PRF model), so the m distinct tokens scored after one previous token contain a
// Hypergeometric(V, G, m) number of green ones, and the total is a sum of independent
// hypergeometrics. The binomial Bin(sum m, G/V) has the same mean and a larger variance (each
// context's variance is smaller by (V - m) / (V - 1)), so it is conservative; this law is exact.
// Computed like WeightedBernoulliLaw; below 1e-280 the Chernoff bound of the binomial is used,
// which bounds the hypergeometric sum too (Hoeffding 1963, section 6: its moment generating
// function is at most the binomial's).
class HypergeometricSumLaw {
 public:
  // successors[i] = number of distinct tokens scored after the i-th distinct previous token.
  HypergeometricSumLaw(const std::vector<int64_t>& successors, int64_t vocab, int64_t green);
  double LogUpperTail(int64_t s) const;  // log P[S >= s], conservative like WeightedBernoulliLaw
  int64_t tuples() const { return n_; }

 private:
  int64_t n_ = 0, vocab_, green_;
  int64_t lo_ = 0;
  std::vector<double> tail_;
  double dropped_ = 0;
};

// The distinct tuples of `e` grouped by window: the number of distinct tokens per window.
std::vector<int64_t> SuccessorsPerWindow(const std::vector<TupleCounter::Entry>& e);

// Weighted green count of counted tuples under a binary scheme (score 0 or 1, e.g. KGW).
int64_t WeightedGreen(Scheme& scheme, const std::vector<TupleCounter::Entry>& e, CountWeight w);

}  // namespace dg::prove
