// Log-space gamma and binomial tails against closed forms, brute force and extreme cases.
#include "prove/stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dg::prove {
namespace {

TEST(GammaTail, ShapeOneIsExponential) {
  for (double x : {1e-6, 0.1, 1.0, 1.9, 2.1, 5.0, 50.0, 1000.0, 1e6}) {
    EXPECT_NEAR(LogGammaUpperTail(1.0, x), -x, 1e-12 * std::max(1.0, x)) << x;
  }
}

TEST(GammaTail, SmallIntegerShapesMatchClosedForm) {
  // Q(n, x) = e^-x sum_{k<n} x^k / k!, evaluated directly where it does not underflow.
  for (int n = 1; n <= 12; ++n) {
    for (double x : {0.05, 0.5, 1.0, 3.0, 7.5, 10.0, 30.0, 80.0}) {
      double sum = 0.0, term = 1.0;
      for (int k = 0; k < n; ++k) {
        if (k > 0) term *= x / k;
        sum += term;
      }
      const double q = std::exp(-x) * sum;
      EXPECT_NEAR(std::exp(LogGammaUpperTail(n, x)) / q, 1.0, 1e-11) << n << " " << x;
      EXPECT_NEAR(std::exp(LogGammaUpperTailIntegerSum(n, x)) / q, 1.0, 1e-12) << n << " " << x;
    }
  }
}

TEST(GammaTail, HalfShapeIsErfc) {
  for (double x : {0.01, 0.3, 1.0, 2.0, 9.0, 25.0}) {
    EXPECT_NEAR(std::exp(LogGammaUpperTail(0.5, x)) / std::erfc(std::sqrt(x)), 1.0, 1e-10) << x;
  }
}

TEST(GammaTail, FractionAndSeriesAgreeWithTermSumEverywhere) {
  for (int64_t n : {2, 17, 100, 1000, 5000, 40000}) {
    for (double r : {0.3, 0.8, 0.99, 1.0, 1.01, 1.2, 2.0, 4.0, 10.0}) {
      const double x = r * n;
      const double a = LogGammaUpperTail(static_cast<double>(n), x);
      const double b = LogGammaUpperTailIntegerSum(n, x);
      EXPECT_NEAR(a, b, 1e-9 * std::max(1.0, std::fabs(b))) << n << " " << x;
    }
  }
}

TEST(GammaTail, FarBelowDoubleRangeIsFinite) {
  // n = 5000 scored tokens whose scores sum to 20000 (mean 4 instead of 1).
  const double l10 = Log10(LogGammaUpperTail(5000, 20000));
  EXPECT_TRUE(std::isfinite(l10));
  EXPECT_LT(l10, -3000.0);
  EXPECT_NEAR(l10, Log10(LogGammaUpperTailIntegerSum(5000, 20000)), 1e-8 * 3500);
  EXPECT_NEAR(l10, -3506.8430139362243, 1e-9 * 3507);  // mpmath, see MpmathReferenceValues
}

// log10 values computed with mpmath 1.2.1 at 50 digits (gammainc(n, x, inf, regularized=True);
// the binomial tail as an exact sum of binomial(n, j) p^j (1-p)^(n-j)).
TEST(Tails, MpmathReferenceValues) {
  struct G {
    double a, x, log10q;
  };
  for (G g : {G{5000, 20000, -3506.8430139362243}, G{100, 150, -5.2273453394118589},
              G{1e6, 1.01e6, -22.974407534426371}, G{0.5, 30, -14.022928894549322},
              G{3, 1000, -428.59464331053019}}) {
    EXPECT_NEAR(Log10(LogGammaUpperTail(g.a, g.x)), g.log10q, 1e-9 * std::fabs(g.log10q))
        << g.a << " " << g.x;
  }
  struct B {
    int64_t n, k;
    double p, log10q;
  };
  for (B b : {B{10000, 5000, 0.25, -626.61574935050799}, B{200, 200, 0.25, -120.41199826559248},
              B{1000, 300, 0.25, -3.7131163579221036}}) {
    EXPECT_NEAR(Log10(LogBinomialUpperTail(b.n, b.k, b.p)), b.log10q, 1e-9 * std::fabs(b.log10q))
        << b.n << " " << b.k;
  }
}

TEST(GammaTail, EdgeCases) {
  EXPECT_EQ(LogGammaUpperTail(3, 0.0), 0.0);
  EXPECT_EQ(LogGammaUpperTail(3, -1.0), 0.0);
  EXPECT_LE(LogGammaUpperTail(1e6, 1.0), 0.0);
  EXPECT_NEAR(LogGammaUpperTail(1e6, 1e6), std::log(0.5), 1e-3);  // median ~ n - 1/3
}

double BruteBinomialTail(int n, int k, double p) {
  double s = 0.0;
  for (int j = k; j <= n; ++j) {
    double c = std::exp(std::lgamma(n + 1.0) - std::lgamma(j + 1.0) - std::lgamma(n - j + 1.0));
    s += c * std::pow(p, j) * std::pow(1 - p, n - j);
  }
  return s;
}

TEST(BinomialTail, SmallCasesMatchBruteForce) {
  for (int n : {1, 2, 5, 13, 30}) {
    for (int k = 0; k <= n + 1; ++k) {
      for (double p : {0.01, 0.25, 0.5, 0.9}) {
        double want = k <= 0 ? 1.0 : BruteBinomialTail(n, k, p);
        double got = std::exp(LogBinomialUpperTail(n, k, p));
        if (k > n) {
          EXPECT_EQ(got, 0.0);
        } else {
          EXPECT_NEAR(got / want, 1.0, 1e-11) << n << " " << k << " " << p;
        }
      }
    }
  }
  EXPECT_NEAR(std::exp(LogBinomialUpperTail(4, 4, 0.25)), 1.0 / 256, 1e-15);
  EXPECT_NEAR(std::exp(LogBinomialUpperTail(3, 1, 0.5)), 7.0 / 8, 1e-15);
}

TEST(BinomialTail, ExtremeIsFiniteAndWithinChernoff) {
  // 10000 tokens, half green at gamma 0.25: n KL(0.5 || 0.25) = 1438.4 nats.
  const int64_t n = 10000, k = 5000;
  const double kl = 0.5 * std::log(0.5 / 0.25) + 0.5 * std::log(0.5 / 0.75);
  const double lp = LogBinomialUpperTail(n, k, 0.25);
  EXPECT_TRUE(std::isfinite(lp));
  EXPECT_LT(Log10(lp), -600);
  EXPECT_LE(lp, -n * kl);
  EXPECT_GE(lp, -n * kl - std::log(n + 1.0));
  EXPECT_EQ(LogBinomialUpperTail(n, n, 0.25), n * std::log(0.25));
}

}  // namespace
}  // namespace dg::prove
