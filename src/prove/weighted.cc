// Count-weighted tuple statistics and their exact null law; see weighted.h.
#include "prove/weighted.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dg::prove {
namespace {

constexpr double kTiny = 1e-300;      // entries below this are dropped (their mass is tracked)
constexpr double kLogTiny = -690.77;  // log(1e-300)

// log(1 - p + p e^x), stable for large x.
double LogMgfTerm(double p, double x) {
  if (x <= 0) return std::log1p(p * std::expm1(x));
  return x + std::log(p + (1 - p) * std::exp(-x));
}

// Copies `next` into `pmf` without its negligible entries at both ends (their mass is added to
// `dropped`); returns how many entries were cut from the low end (the shift of the support).
int64_t TrimInto(const std::vector<double>& next, std::vector<double>* pmf, double* dropped) {
  size_t first = 0, last = next.size();
  while (first + 1 < last && next[first] < kTiny) *dropped += next[first++];
  while (last > first + 1 && next[last - 1] < kTiny) *dropped += next[--last];
  pmf->assign(next.begin() + static_cast<ptrdiff_t>(first),
              next.begin() + static_cast<ptrdiff_t>(last));
  return static_cast<int64_t>(first);
}

// tail[i] = sum of pmf[j] for j >= i (one more entry than pmf, the last 0).
std::vector<double> UpperTails(const std::vector<double>& pmf) {
  std::vector<double> tail(pmf.size() + 1, 0.0);
  for (size_t i = pmf.size(); i-- > 0;) tail[i] = tail[i + 1] + pmf[i];
  return tail;
}

}  // namespace

int64_t WeightOf(CountWeight w, int64_t count) {
  if (count <= 0) return 0;
  switch (w) {
    case CountWeight::kOne:
      return 1;
    case CountWeight::kLog2: {
      int64_t k = 1;
      for (int64_t c = count; c > 1; c >>= 1) ++k;
      return k;
    }
    case CountWeight::kSqrt: {
      int64_t r = static_cast<int64_t>(std::sqrt(static_cast<double>(count)));
      while (r * r < count) ++r;
      while (r > 1 && (r - 1) * (r - 1) >= count) --r;
      return r;
    }
    case CountWeight::kCap4:
      return std::min<int64_t>(count, 4);
    case CountWeight::kRare:
      return count == 1 ? 2 : 1;
    case CountWeight::kInv3:
      return std::max<int64_t>(1, 4 - count);
    case CountWeight::kFew4:
      return count <= 4 ? 1 : 0;
  }
  return 1;
}

bool ParseCountWeight(std::string_view s, CountWeight* w) {
  if (s == "one")
    *w = CountWeight::kOne;
  else if (s == "log2")
    *w = CountWeight::kLog2;
  else if (s == "sqrt")
    *w = CountWeight::kSqrt;
  else if (s == "cap4")
    *w = CountWeight::kCap4;
  else if (s == "rare")
    *w = CountWeight::kRare;
  else if (s == "inv3")
    *w = CountWeight::kInv3;
  else if (s == "few4")
    *w = CountWeight::kFew4;
  else
    return false;
  return true;
}

const char* CountWeightName(CountWeight w) {
  switch (w) {
    case CountWeight::kOne:
      return "one";
    case CountWeight::kLog2:
      return "log2";
    case CountWeight::kSqrt:
      return "sqrt";
    case CountWeight::kCap4:
      return "cap4";
    case CountWeight::kRare:
      return "rare";
    case CountWeight::kInv3:
      return "inv3";
    case CountWeight::kFew4:
      return "few4";
  }
  return "?";
}

void TupleCounter::AddText(std::span<const int64_t> tokens) {
  ForEachTuple(scheme_, tokens, [&](std::span<const int64_t> window, int64_t token) {
    if (allowed_ && !allowed_->count(WindowPrint(window))) return;
    auto [it, fresh] = index_.try_emplace(TuplePrint(window, token), entries_.size());
    if (fresh) entries_.push_back({{window.begin(), window.end()}, token, 0});
    ++entries_[it->second].count;
  });
}

std::vector<int64_t> WeightClasses(const std::vector<TupleCounter::Entry>& e, CountWeight w) {
  std::vector<int64_t> n(1, 0);
  for (const auto& x : e) {
    const auto k = static_cast<size_t>(WeightOf(w, x.count));
    if (n.size() <= k) n.resize(k + 1, 0);
    ++n[k];
  }
  return n;
}

WeightedBernoulliLaw::WeightedBernoulliLaw(std::vector<int64_t> n_by_weight, double p)
    : n_(std::move(n_by_weight)), p_(p) {
  if (n_.empty()) n_.push_back(0);
  std::vector<double> pmf{1.0}, next, b;  // pmf[i] = P[S = lo_ + i]
  for (size_t k = 1; k < n_.size(); ++k) {
    const int64_t m = n_[k];
    if (m <= 0) continue;
    max_ += static_cast<int64_t>(k) * m;
    // The binomial's terms above 1e-300, found by walking out from the mode.
    const double lp = std::log(p_), lq = std::log1p(-p_), lgm = std::lgamma(m + 1.0);
    auto term = [&](int64_t j) {
      return lgm - std::lgamma(j + 1.0) - std::lgamma(static_cast<double>(m - j) + 1.0) +
             static_cast<double>(j) * lp + static_cast<double>(m - j) * lq;
    };
    const int64_t mode = std::clamp<int64_t>(
        static_cast<int64_t>(std::floor(static_cast<double>(m + 1) * p_)), 0, m);
    int64_t jlo = mode, jhi = mode;
    while (jlo > 0 && term(jlo - 1) > kLogTiny) --jlo;
    while (jhi < m && term(jhi + 1) > kLogTiny) ++jhi;
    b.assign(static_cast<size_t>(jhi - jlo + 1), 0.0);
    for (int64_t j = jlo; j <= jhi; ++j) b[static_cast<size_t>(j - jlo)] = std::exp(term(j));
    // Terms left out are each below 1e-300; products that underflow are below 1e-307 each.
    dropped_ += static_cast<double>(m + 1) * kTiny +
                static_cast<double>(pmf.size()) * static_cast<double>(b.size()) * 1e-307;
    const size_t step = k;
    next.assign(pmf.size() + step * (b.size() - 1), 0.0);
    for (size_t i = 0; i < pmf.size(); ++i) {
      const double a = pmf[i];
      if (a == 0) continue;
      double* out = next.data() + i;
      for (size_t j = 0; j < b.size(); ++j) out[j * step] += a * b[j];
    }
    lo_ += static_cast<int64_t>(k) * jlo;
    lo_ += TrimInto(next, &pmf, &dropped_);
  }
  tail_ = UpperTails(pmf);
}

double WeightedBernoulliLaw::mean() const {
  double m = 0;
  for (size_t k = 1; k < n_.size(); ++k) m += static_cast<double>(k * n_[k]) * p_;
  return m;
}

int64_t WeightedBernoulliLaw::tuples() const {
  int64_t t = 0;
  for (size_t k = 1; k < n_.size(); ++k) t += n_[k];
  return t;
}

double WeightedBernoulliLaw::LogChernoff(int64_t s) const {
  if (s > max_) return -std::numeric_limits<double>::infinity();
  if (static_cast<double>(s) <= mean()) return 0.0;
  // f(l) = -l s + sum_k n_k log(1 - p + p e^{l k}) is convex in l >= 0; its minimum is where
  // f'(l) = -s + sum_k n_k k p e^{lk} / (1 - p + p e^{lk}) crosses 0 (bisection).
  auto f = [&](double l) {
    double v = -l * static_cast<double>(s);
    for (size_t k = 1; k < n_.size(); ++k)
      if (n_[k]) v += static_cast<double>(n_[k]) * LogMgfTerm(p_, l * static_cast<double>(k));
    return v;
  };
  auto df = [&](double l) {
    double v = -static_cast<double>(s);
    for (size_t k = 1; k < n_.size(); ++k) {
      if (!n_[k]) continue;
      const double x = l * static_cast<double>(k);
      const double share = 1.0 / (1.0 + (1 - p_) / p_ * std::exp(-x));  // p e^x / (1-p+p e^x)
      v += static_cast<double>(n_[k] * static_cast<int64_t>(k)) * share;
    }
    return v;
  };
  if (s == max_) {
    double v = 0;
    for (size_t k = 1; k < n_.size(); ++k) v += static_cast<double>(n_[k]) * std::log(p_);
    return v;
  }
  double lo = 0, hi = 1;
  while (df(hi) < 0 && hi < 1e6) hi *= 2;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    (df(mid) < 0 ? lo : hi) = mid;
  }
  return std::min(0.0, f(0.5 * (lo + hi)));
}

double WeightedBernoulliLaw::LogUpperTail(int64_t s) const {
  if (s > max_) return -std::numeric_limits<double>::infinity();
  if (s <= lo_) return 0.0;
  const auto i = static_cast<size_t>(s - lo_);
  const double exact = (i < tail_.size() ? tail_[i] : 0.0) + dropped_;
  const double chernoff = LogChernoff(s);
  if (exact >= 1e-280) return std::min(std::log(std::min(exact, 1.0)), chernoff);
  return chernoff;
}

HypergeometricSumLaw::HypergeometricSumLaw(const std::vector<int64_t>& successors, int64_t vocab,
                                           int64_t green)
    : vocab_(vocab), green_(green) {
  std::vector<double> pmf{1.0}, next, b;
  const double lv = std::lgamma(static_cast<double>(vocab) + 1);
  auto lc = [](double n, double k) {
    return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1);
  };
  for (int64_t m : successors) {
    if (m <= 0) continue;
    m = std::min(m, vocab);
    n_ += m;
    // P[X = j] = C(G, j) C(V - G, m - j) / C(V, m), for max(0, m - (V - G)) <= j <= min(m, G).
    const int64_t jmin = std::max<int64_t>(0, m - (vocab - green)), jmax = std::min(m, green);
    const double lden = lv - std::lgamma(static_cast<double>(m) + 1) -
                        std::lgamma(static_cast<double>(vocab - m) + 1);
    b.assign(static_cast<size_t>(jmax - jmin + 1), 0.0);
    for (int64_t j = jmin; j <= jmax; ++j) {
      const double l = lc(static_cast<double>(green), static_cast<double>(j)) +
                       lc(static_cast<double>(vocab - green), static_cast<double>(m - j)) - lden;
      b[static_cast<size_t>(j - jmin)] = l > kLogTiny ? std::exp(l) : 0.0;
    }
    dropped_ += static_cast<double>(b.size()) * kTiny +
                static_cast<double>(pmf.size()) * static_cast<double>(b.size()) * 1e-307;
    next.assign(pmf.size() + b.size() - 1, 0.0);
    for (size_t i = 0; i < pmf.size(); ++i) {
      const double a = pmf[i];
      if (a == 0) continue;
      for (size_t j = 0; j < b.size(); ++j) next[i + j] += a * b[j];
    }
    lo_ += jmin;
    lo_ += TrimInto(next, &pmf, &dropped_);
  }
  tail_ = UpperTails(pmf);
}

double HypergeometricSumLaw::LogUpperTail(int64_t s) const {
  if (s > n_) return -std::numeric_limits<double>::infinity();
  if (s <= lo_) return 0.0;
  const auto i = static_cast<size_t>(s - lo_);
  const double exact = (i < tail_.size() ? tail_[i] : 0.0) + dropped_;
  // Chernoff for Bin(n, p) at k = s: -n KL(s/n || p), valid for the hypergeometric sum too.
  const double p = static_cast<double>(green_) / static_cast<double>(vocab_);
  const double n = static_cast<double>(n_), x = static_cast<double>(s) / n;
  double chernoff = 0;
  if (x > p) {
    const double kl = x * std::log(x / p) + (x < 1 ? (1 - x) * std::log((1 - x) / (1 - p)) : 0.0);
    chernoff = -n * kl;
  }
  if (exact >= 1e-280) return std::min(std::log(std::min(exact, 1.0)), chernoff);
  return chernoff;
}

std::vector<int64_t> SuccessorsPerWindow(const std::vector<TupleCounter::Entry>& e) {
  std::unordered_map<Fingerprint, int64_t, FingerprintHash> per;
  for (const auto& x : e) ++per[WindowPrint(x.window)];
  std::vector<int64_t> out;
  out.reserve(per.size());
  for (const auto& [w, m] : per) out.push_back(m);
  std::sort(out.begin(), out.end());  // a fixed order: the result does not depend on hashing
  return out;
}

int64_t WeightedGreen(Scheme& scheme, const std::vector<TupleCounter::Entry>& e, CountWeight w) {
  int64_t s = 0;
  for (const auto& x : e)
    if (scheme.Score(x.window, x.token) > 0.5) s += WeightOf(w, x.count);
  return s;
}

}  // namespace dg::prove
