// Exact tail probabilities in log space for watermark forensics.
//
// Design: a watermark test over a long text (or a pooled corpus) routinely has p-values far below
// the smallest double (1e-308), and a court-minded reader must be able to check them, so nothing
// here uses a normal approximation and nothing leaves log space: the upper tail of Gamma(a, 1)
// (the null law of a sum of a independent Exp(1) scores, the Gumbel/Aaronson statistic) comes from
// the series for P or the Lentz continued fraction for Q, with the prefactor kept as a logarithm;
// the binomial upper tail (the KGW green count) is a log-sum-exp over its exact terms. All
// functions return natural logarithms; Log10() converts. They never throw.
//
// The one-sample Kolmogorov-Smirnov test (calibration: are p-values over many keys uniform?) uses
// the exact distribution of D_n (Marsaglia, Tsang & Wang 2003, "Evaluating Kolmogorov's
// distribution", J. Stat. Softw. 8(18)): P(D_n < d) as an entry of the n-th power of a
// (2k-1)-square matrix, with a separately kept decimal exponent so that nothing underflows. It is
// exact up to rounding for every n and d (no asymptotic Kolmogorov limit).
#pragma once

#include <cstdint>
#include <vector>

namespace dg::prove {

// log Q(a, x) = log P[G >= x], G ~ Gamma(a, 1) (the regularised upper incomplete gamma). a > 0;
// x <= 0 gives 0. Relative accuracy ~1e-12 in Q, whatever its magnitude (log Q may be -1e5).
double LogGammaUpperTail(double a, double x);

// Reference for integer n >= 1: log of e^-x * sum_{k<n} x^k / k!, summed term by term (O(n)).
// Used by tests to check LogGammaUpperTail; exact up to rounding.
double LogGammaUpperTailIntegerSum(int64_t n, double x);

// log P[X >= k], X ~ Bin(n, p), 0 <= p <= 1. k <= 0 gives 0, k > n gives -infinity.
double LogBinomialUpperTail(int64_t n, int64_t k, double p);

// P(D_n < d) for the one-sample KS statistic of n uniform draws, n >= 1.
double KolmogorovCdf(int64_t n, double d);

struct KsResult {
  int64_t n = 0;
  double d = 0;        // sup |F_n - F|
  double p_value = 1;  // P(D_n >= d) under the null
};
// One-sample KS test of `values` (in [0, 1]) against the uniform distribution on [0, 1].
KsResult KsTestUniform(std::vector<double> values);

inline constexpr double kLn10 = 2.302585092994045684;
inline double Log10(double natural_log) { return natural_log / kLn10; }

}  // namespace dg::prove
