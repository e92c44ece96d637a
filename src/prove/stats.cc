// Log-space gamma and binomial tails; see stats.h. The gamma tail follows the classic split
// (Numerical Recipes, gser/gcf): for x < a + 1 the series for P converges fast and Q = 1 - P is
// not small, so log1p(-P) is accurate; otherwise the continued fraction for Q converges fast and
// its prefactor e^-x x^a / Gamma(a) is kept as a logarithm, so Q may be 1e-5000.
#include "prove/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace dg::prove {
namespace {

constexpr double kEps = 1e-16;
constexpr int kMaxIter = 100000000;  // the series / fraction need O(sqrt(a)) steps near x ~ a

// log of the common prefactor e^-x x^a / Gamma(a).
double LogPrefactor(double a, double x) { return -x + a * std::log(x) - std::lgamma(a); }

// log P(a, x) by the series x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n)).
double LogLowerSeries(double a, double x) {
  double term = 1.0 / a, sum = term, ap = a;
  for (int i = 0; i < kMaxIter; ++i) {
    ap += 1.0;
    term *= x / ap;
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kEps) break;
  }
  return LogPrefactor(a, x) + std::log(sum);
}

// log Q(a, x) by the continued fraction (modified Lentz).
double LogUpperFraction(double a, double x) {
  constexpr double kTiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / kTiny, d = 1.0 / b, h = d;
  for (int i = 1; i < kMaxIter; ++i) {
    double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return LogPrefactor(a, x) + std::log(h);
}

double LogAddExp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

}  // namespace

double LogGammaUpperTail(double a, double x) {
  if (!(x > 0.0)) return 0.0;
  if (!(a > 0.0)) return -std::numeric_limits<double>::infinity();
  if (x < a + 1.0) {
    double log_p = LogLowerSeries(a, x);
    return std::log1p(-std::exp(log_p));
  }
  return std::min(0.0, LogUpperFraction(a, x));
}

double LogGammaUpperTailIntegerSum(int64_t n, double x) {
  if (!(x > 0.0)) return 0.0;
  if (n <= 0) return -std::numeric_limits<double>::infinity();
  // log-sum-exp of k log x - log k! for k < n; a running maximum keeps every exp() <= 1.
  double log_x = std::log(x), term = 0.0, acc = 0.0;  // k = 0: term 0, sum exp(0)
  for (int64_t k = 1; k < n; ++k) {
    term += log_x - std::log(static_cast<double>(k));
    acc = LogAddExp(acc, term);
  }
  return std::min(0.0, -x + acc);
}

double LogBinomialUpperTail(int64_t n, int64_t k, double p) {
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  if (k <= 0) return 0.0;
  if (k > n || n <= 0) return kNegInf;
  if (p <= 0.0) return kNegInf;
  if (p >= 1.0) return 0.0;
  const double lp = std::log(p), lq = std::log1p(-p);
  const double lgn = std::lgamma(static_cast<double>(n) + 1.0);
  const double mode = std::floor((n + 1) * p);
  double acc = kNegInf, best = kNegInf;
  for (int64_t j = k; j <= n; ++j) {
    const double dj = static_cast<double>(j);
    double t = lgn - std::lgamma(dj + 1.0) - std::lgamma(static_cast<double>(n - j) + 1.0) +
               dj * lp + static_cast<double>(n - j) * lq;
    acc = LogAddExp(acc, t);
    best = std::max(best, t);
    // Past the mode the terms fall monotonically; once they are e^-80 below the largest, the
    // remaining (at most n) terms cannot move the sum by more than n * 1.8e-35 of it.
    if (dj > mode && t < best - 80.0) break;
  }
  return std::min(0.0, acc);
}

namespace {

// Square matrices of doubles (row-major) with a decimal exponent kept beside them.
using Matrix = std::vector<double>;

Matrix Multiply(const Matrix& a, const Matrix& b, int m) {
  Matrix c(static_cast<size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i)
    for (int k = 0; k < m; ++k) {
      const double aik = a[static_cast<size_t>(i) * m + k];
      if (aik == 0.0) continue;
      for (int j = 0; j < m; ++j)
        c[static_cast<size_t>(i) * m + j] += aik * b[static_cast<size_t>(k) * m + j];
    }
  return c;
}

// v = h^n with v's scale kept as 10^(*e): Marsaglia-Tsang-Wang's mPower.
void Power(const Matrix& h, int eh, Matrix* v, int* ev, int m, int64_t n) {
  if (n == 1) {
    *v = h;
    *ev = eh;
    return;
  }
  Power(h, eh, v, ev, m, n / 2);
  Matrix b = Multiply(*v, *v, m);
  int eb = 2 * (*ev);
  if (n % 2 == 1) {
    b = Multiply(h, b, m);
    eb += eh;
  }
  const size_t mid = static_cast<size_t>(m / 2) * m + m / 2;
  if (b[mid] > 1e140) {
    for (double& x : b) x *= 1e-140;
    eb += 140;
  }
  *v = std::move(b);
  *ev = eb;
}

}  // namespace

double KolmogorovCdf(int64_t n, double d) {
  if (n <= 0) return 1.0;
  const double nd = static_cast<double>(n) * d;
  if (d <= 0.5 / static_cast<double>(n)) return 0.0;
  if (d >= 1.0) return 1.0;
  const int k = static_cast<int>(nd) + 1;
  const int m = 2 * k - 1;
  const double h = k - nd;
  Matrix hm(static_cast<size_t>(m) * m);
  auto at = [&](int i, int j) -> double& { return hm[static_cast<size_t>(i) * m + j]; };
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) at(i, j) = i - j + 1 < 0 ? 0.0 : 1.0;
  for (int i = 0; i < m; ++i) {
    at(i, 0) -= std::pow(h, i + 1);
    at(m - 1, i) -= std::pow(h, m - i);
  }
  at(m - 1, 0) += 2 * h - 1 > 0 ? std::pow(2 * h - 1, m) : 0.0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j)
      if (i - j + 1 > 0)
        for (int g = 1; g <= i - j + 1; ++g) at(i, j) /= g;
  Matrix q;
  int eq = 0;
  Power(hm, 0, &q, &eq, m, n);
  double s = q[static_cast<size_t>(k - 1) * m + (k - 1)];
  for (int64_t i = 1; i <= n; ++i) {
    s = s * static_cast<double>(i) / static_cast<double>(n);
    if (s < 1e-140) {
      s *= 1e140;
      eq -= 140;
    }
  }
  return std::clamp(s * std::pow(10.0, eq), 0.0, 1.0);
}

KsResult KsTestUniform(std::vector<double> values) {
  KsResult r;
  r.n = static_cast<int64_t>(values.size());
  if (values.empty()) return r;
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const double x = std::clamp(values[i], 0.0, 1.0);
    r.d = std::max({r.d, static_cast<double>(i + 1) / n - x, x - static_cast<double>(i) / n});
  }
  r.p_value = std::clamp(1.0 - KolmogorovCdf(r.n, r.d), 0.0, 1.0);
  return r;
}

}  // namespace dg::prove
