#include <xact/functions/swish.hpp>

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

#include "reference/swish.hpp"
#include "support.hpp"

namespace {

template <class T>
void register_swish(const char* name, double beta, double fwd, double bx) {
  using R = xt::wide_t<T>;
  const xact::swish op{beta};
  const R b = static_cast<R>(static_cast<T>(beta));  // the op computes with beta rounded to T
  xt::Register<T> f{xt::forward_case<T>(name, op, fwd, [b](R x) { return ref::swish<R>(x, b); })};
  // No absolute floor: f' keeps its relative accuracy next to its zero (t ~ -1.2785).
  xt::Register<T> g{
      xt::backward_x_case<T>(name, op, bx, [b](R x) { return ref::swish_grad<R>(x, b); })};
}

// The bounds: what the strided and exhaustive walks assert (README's table).
// -ffast-math (XT_FAST_MATH_BOUND): one ulp more, in the tails only (|t| beyond 64 / 640, where
// e^t comes from math::detail::exp_split, whose two Fast2Sums -ffast-math reassociates away, so
// e's low part is lost); measured 2 (forward, beta = 1) and 3 (backward) there, GCC 12 -O3.
#define SW_FWD1 XT_FAST_MATH_BOUND(1, 2)
#define SW_BWD XT_FAST_MATH_BOUND(2, 3)
const bool registered = [] {
  register_swish<float>("swish", 1, SW_FWD1, SW_BWD);
  register_swish<double>("swish", 1, SW_FWD1, SW_BWD);
  register_swish<float>("swish(b=1.7)", 1.7, 2, SW_BWD);
  register_swish<double>("swish(b=1.7)", 1.7, 2, SW_BWD);
  register_swish<float>("swish(b=-0.3)", -0.3, 2, SW_BWD);
  register_swish<double>("swish(b=-0.3)", -0.3, 2, SW_BWD);
  return true;
}();

template <class T>
class Swish : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Swish, Types);

TYPED_TEST(Swish, SpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::swish f;
  EXPECT_EQ(f(T(0)), T(0));
  EXPECT_FALSE(std::signbit(f(T(0))));
  EXPECT_EQ(f(T(-0.0)), T(0));
  EXPECT_TRUE(std::signbit(f(T(-0.0))));
  EXPECT_EQ(f(L::infinity()), L::infinity());
  EXPECT_EQ(f(-L::infinity()), T(0));
  EXPECT_TRUE(std::signbit(f(-L::infinity())));
  EXPECT_EQ(f(L::max()), L::max());
  EXPECT_EQ(f(L::lowest()), T(0));
  EXPECT_TRUE(std::signbit(f(L::lowest())));
  EXPECT_TRUE(std::isnan(f(L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(f(-L::quiet_NaN())));
  // x s(x) ~ x/2 near 0, rounded: denorm_min/2 is a tie that goes to (-)0, 2 denorm_min to 1.
  EXPECT_EQ(f(T(2) * L::denorm_min()), L::denorm_min());
  EXPECT_EQ(f(L::min()), L::min() / 2);
  EXPECT_EQ(f(-L::min()), -L::min() / 2);
  // The minimum of x s(x) is about -0.2785 (at x ~ -1.2785); never above x for x > 0.
  for (int i = -20000; i <= 20000; ++i) {
    const T x = T(i) * T(0.0137) * std::abs(T(i)) / T(100);  // up to +-5480, denser near 0
    const T y = f(x);
    ASSERT_TRUE(y >= T(-0.2785) && (x <= 0 ? y <= T(0) : (y > T(0) && y <= x))) << x;
  }
}

TYPED_TEST(Swish, ParametersAndInfinities) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  using R = xt::wide_t<T>;
  const T inf = L::infinity();
  // beta = 0: x/2 everywhere, infinities included.
  const xact::swish z{0.0};
  EXPECT_EQ(z(T(3)), T(1.5));
  EXPECT_EQ(z(inf), inf);
  EXPECT_EQ(z(-inf), -inf);
  EXPECT_EQ(z.backward_from_x(inf, T(2)), T(1));
  EXPECT_EQ(z.backward_from_x(T(-7), T(2)), T(1));
  // beta < 0 mirrors the curve.
  const xact::swish m{-1.0};
  EXPECT_EQ(m(inf), T(0));
  EXPECT_FALSE(std::signbit(m(inf)));
  EXPECT_EQ(m(-inf), -inf);
  EXPECT_EQ(m.backward_from_x(inf, T(1)), T(0));
  EXPECT_EQ(m.backward_from_x(-inf, T(1)), T(1));
  // Tiny beta with huge x: the product x e^-|beta x| is exact where neither factor alone is
  // representable as a normal number, and nothing overflows.
  for (double beta : {1e-30, 1e-36, 3e-300}) {
    if (static_cast<T>(beta) == T(0) || !std::isnormal(static_cast<T>(beta))) continue;
    const xact::swish s{beta};
    for (T x : {-L::max(), T(-0.5) * L::max(), T(-1e36), T(-1e30), T(-1e10)}) {
      const R want = ref::swish<R>(x, static_cast<R>(static_cast<T>(beta)));
      EXPECT_LE(xt::ulp_distance(s(x), static_cast<T>(want)), 2.0) << beta << " " << x;
      EXPECT_FALSE(std::isinf(s(x))) << beta << " " << x;
      EXPECT_FALSE(std::isnan(s.backward_from_x(x, T(1)))) << beta << " " << x;
    }
  }
}

TYPED_TEST(Swish, TinyOutputsKeepFullRelativeAccuracy) {
  using T = TypeParam;
  using R = xt::wide_t<T>;
  const xact::swish f;
  // Normal results built from a subnormal e^x, subnormal results, and the clamp thresholds.
  const T xs[] = {T(-80),  T(-87.5), T(-88),  T(-90),  T(-95),   T(-100), T(-103.5),
                  T(-105), T(-108),  T(-112), T(-151), T(-195),  T(-700), T(-740),
                  T(-745), T(-750),  T(-759), T(-761), T(-1101), T(-1103)};
  for (T x : xs) {
    const R r = ref::swish<R>(x);
    EXPECT_LE(xt::ulp_distance(f(x), static_cast<T>(r)), 1.0) << x;
    EXPECT_LE(xt::ulp_distance(f.backward_from_x(x, T(1)), static_cast<T>(ref::swish_grad<R>(x))),
              1.0)
        << x;
    if (static_cast<T>(r) != T(0)) {
      EXPECT_LT(f(x), T(0)) << x;
    }
  }
  EXPECT_LT(f(T(-88)), T(0));  // a tiny negative number, not 0
}

// Flush-to-zero / denormals-are-zero (x86 MXCSR): the results that stay normal keep their
// bounds, densely across the fast path's |t| limit, where e^-|t| and its error terms approach
// the subnormal range (test_denormals.cpp samples the same contract more sparsely).
TYPED_TEST(Swish, FlushToZeroKeepsBoundsNearTheFastPathLimit) {
#if defined(__SSE2__) || defined(_M_X64)
  using T = TypeParam;
  using R = xt::wide_t<T>;
  constexpr bool F = sizeof(T) == 4;
  const T lo = F ? T(-104) : T(-746), hi = F ? T(-50) : T(-600);
  std::vector<T> x;
  for (int i = 0; i <= 40000; ++i) x.push_back(lo + (hi - lo) * T(i) / T(40000));
  std::vector<T> dy(x.size(), T(1)), y(x.size());
  const unsigned saved = _mm_getcsr();
  for (double beta : {1.0, 1.7, -0.3}) {
    const xact::swish f{beta};
    const R b = static_cast<R>(static_cast<T>(beta));
    for (unsigned mode : {0x8000u, 0x0040u, 0x8040u}) {
      for (int dir = 0; dir < 2; ++dir) {
        std::vector<T> xs = x;
        if (beta < 0)
          for (auto& v : xs) v = static_cast<T>(-v / T(0.3));  // t = -0.3 x < 0
        _mm_setcsr((saved & ~0x8040u) | mode);
        if (dir == 0)
          xact::forward(f, xs.data(), y.data(), xs.size());
        else
          xact::backward_from_x(f, xs.data(), dy.data(), y.data(), xs.size());
        _mm_setcsr(saved);
        double worst = 0;
        T at = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
          const R r = dir == 0 ? ref::swish<R>(xs[i], b) : ref::swish_grad<R>(xs[i], b);
          // Results below 4x the smallest normal may be flushed (README, FTZ/DAZ).
          if (std::fabs(r) <= 4 * (R)std::numeric_limits<T>::min()) continue;
          const double e = xt::ulp_distance(y[i], static_cast<T>(r));
          if (e > worst) worst = e, at = xs[i];
        }
        EXPECT_LE(worst, beta == 1 && dir == 0 ? SW_FWD1 : SW_BWD)
            << beta << " mode " << mode << " dir " << dir << " x=" << at;
        std::printf("[swish ftz] beta %g mode %#x %s: max %.2f ulp\n", beta, mode,
                    dir == 0 ? "forward" : "backward_from_x", worst);
      }
    }
  }
#else
  GTEST_SKIP() << "FTZ/DAZ are x86 MXCSR modes";
#endif
}

TYPED_TEST(Swish, BackwardSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  using R = xt::wide_t<T>;
  const xact::swish f;
  EXPECT_EQ(f.backward_from_x(T(0), T(1)), T(0.5));
  EXPECT_EQ(f.backward_from_x(T(-0.0), T(3)), T(1.5));
  EXPECT_EQ(f.backward_from_x(L::infinity(), T(2)), T(2));
  EXPECT_EQ(f.backward_from_x(-L::infinity(), T(2)), T(0));
  EXPECT_EQ(f.backward_from_x(L::max(), T(2)), T(2));
  EXPECT_EQ(f.backward_from_x(L::lowest(), T(2)), T(0));
  EXPECT_TRUE(std::isnan(f.backward_from_x(L::quiet_NaN(), T(1))));
  EXPECT_TRUE(std::isnan(f.backward_from_x(T(1), L::quiet_NaN())));
  // Around the zero of f' (x0 ~ -1.27846): full relative accuracy on both sides, 64 ulps each
  // way from the T nearest the zero (the reference has no cancellation there, see its comment).
  const long double res = (long double)ref::swish_t0_hi + ref::swish_t0_lo + 1 +
                          std::exp((long double)ref::swish_t0_hi + ref::swish_t0_lo);
  EXPECT_LT(std::fabs(res), 1e-18L);
  const T x0 = static_cast<T>(ref::swish_t0_hi);
  T x = x0;
  for (int i = 0; i < 64; ++i) x = std::nextafter(x, T(-2));
  for (int i = 0; i < 128; ++i, x = std::nextafter(x, T(0))) {
    const T want = static_cast<T>(ref::swish_grad<R>(x));
    EXPECT_LE(xt::ulp_distance(f.backward_from_x(x, T(1)), want), 1.0) << x;
  }
  // The parameter gradient's special values.
  T dp;
  EXPECT_EQ(f.backward_param_from_x(T(0), T(1), dp), T(0.5));
  EXPECT_EQ(dp, T(0));
  f.backward_param_from_x(L::infinity(), T(1), dp);
  EXPECT_EQ(dp, T(0));
  f.backward_param_from_x(-L::infinity(), T(1), dp);
  EXPECT_EQ(dp, T(0));
  f.backward_param_from_x(L::quiet_NaN(), T(1), dp);
  EXPECT_TRUE(std::isnan(dp));
  f.backward_param_from_x(T(1), L::quiet_NaN(), dp);
  EXPECT_TRUE(std::isnan(dp));
}

TYPED_TEST(Swish, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  for (double beta : {1.0, 1.7, 0.25, -0.6}) {
    const xact::swish f{beta};
    const long double b = static_cast<T>(beta);
    for (long double x = -30; x <= 30; x += 0.37L) {
      const long double xt = static_cast<T>(x);
      const long double num =
          xt::central_difference([b](long double v) { return ref::swish<long double>(v, b); }, xt);
      const long double got = f.backward_from_x(static_cast<T>(x), T(1));
      EXPECT_NEAR(got, num, 1e-6L * std::fabs(num) + 1e-12L) << beta << " " << x;
      // d(beta): perturb beta in the long double reference.
      const long double numb = xt::central_difference(
          [xt](long double bb) { return ref::swish<long double>(xt, bb); }, b);
      T dp;
      f.backward_param_from_x(static_cast<T>(x), T(1), dp);
      // The difference quotient of values up to 30 cancels to ~1e-12 absolute in long double.
      EXPECT_NEAR(dp, numb, 1e-6L * std::fabs(numb) + 1e-10L) << beta << " " << x;
    }
  }
}

TYPED_TEST(Swish, Drivers) {
  xt::check_conformance<TypeParam>(xact::swish{});
  xt::check_conformance<TypeParam>(xact::swish{-1.3});
}

// The parameter driver: dx equals backward_from_x's bit for bit, the sum matches the long double
// sum of the reference terms, every length class, offsets, in place, ranges.
TYPED_TEST(Swish, ParamDriver) {
  using T = TypeParam;
  using R = long double;
  constexpr std::size_t W = xsimd::batch<T>::size;
  const xact::swish f{1.25};
  const std::vector<T> x = xt::conformance_inputs<T>(1100 + 2 * W, 7);
  std::vector<T> dy = xt::conformance_inputs<T>(1100 + 2 * W, 8);
  for (auto& v : dy)
    if (!std::isfinite(v)) v = T(0.5);  // a NaN dy would make every sum NaN
  std::vector<T> xf = x;
  for (auto& v : xf)
    if (std::isnan(v)) v = T(2);
  for (std::size_t n :
       {std::size_t(0), std::size_t(1), W - 1, W, W + 1, 2 * W + 3, std::size_t(1000 + 7)}) {
    if (n == 0 && W == 1) continue;
    for (std::size_t off : {std::size_t(0), std::size_t(1)}) {
      std::vector<T> dx(n + 2, T(-7));
      const T sum =
          xact::backward_with_param(f, xf.data() + off, dy.data() + off, dx.data() + 1, n);
      EXPECT_TRUE(xt::same_bits(dx[0], T(-7)) && xt::same_bits(dx[n + 1], T(-7))) << n;
      R want = 0, mag = 0;
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(xt::same_lane(dx[i + 1], f.backward_from_x(xf[off + i], dy[off + i])))
            << n << " " << i;
        const R term = (R)dy[off + i] *
                       ref::swish_grad_beta<R>(xf[off + i], static_cast<R>(static_cast<T>(1.25)));
        want += term;
        mag += std::fabs(term);
      }
      EXPECT_NEAR(sum, want, 4 * std::numeric_limits<T>::epsilon() * (std::fabs(want) + 1e-3 * mag))
          << n;
      // Padding: the same elements followed by dy = 0 give the same sum, bit for bit.
      std::vector<T> xp(xf.begin() + off, xf.begin() + off + n),
          dyp(dy.begin() + off, dy.begin() + off + n);
      for (std::size_t k = 0; k < 2 * W + 1; ++k) {
        xp.push_back(T(3));
        dyp.push_back(T(0));
      }
      std::vector<T> dxp(xp.size());
      // Only lanes of whole batches beyond n: compare when n is a multiple of W, else the
      // padded elements land in other lanes; both sums must still be exact to the bound.
      const T sump = xact::backward_with_param(f, xp, dyp, dxp);
      if (n % W == 0) {
        EXPECT_TRUE(xt::same_bits(sum, sump)) << n;
      }
      EXPECT_NEAR(sump, want,
                  4 * std::numeric_limits<T>::epsilon() * (std::fabs(want) + 1e-3 * mag));
      // In place over dy.
      std::vector<T> inplace(dy.begin() + off, dy.begin() + off + n);
      const T s2 = xact::backward_with_param(f, xf.data() + off, inplace.data(), inplace.data(), n);
      EXPECT_TRUE(xt::same_bits(s2, sum)) << n;
      for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(xt::same_lane(inplace[i], dx[i + 1]));
    }
  }
  // Size checks and null pointers.
  std::vector<T> a(5), b(4), c(5);
  EXPECT_THROW(xact::backward_with_param(f, a, b, c), std::invalid_argument);
  EXPECT_THROW(xact::backward_with_param(f, a, c, b), std::invalid_argument);
  EXPECT_THROW(xact::backward_with_param(f, static_cast<const T*>(nullptr), a.data(), c.data(), 5),
               std::invalid_argument);
  EXPECT_EQ(xact::backward_with_param(f, static_cast<const T*>(nullptr), a.data(), c.data(), 0),
            T(0));
}

TEST(Swish, ParameterValidation) {
  XT_SKIP_IF_FAST_MATH();
  EXPECT_THROW(xact::swish{std::numeric_limits<double>::infinity()}, std::invalid_argument);
  EXPECT_THROW(xact::swish{-std::numeric_limits<double>::infinity()}, std::invalid_argument);
  EXPECT_THROW(xact::swish{std::numeric_limits<double>::quiet_NaN()}, std::invalid_argument);
  EXPECT_NO_THROW(xact::swish{0.0});
  EXPECT_NO_THROW(xact::swish{-2.0});
}

}  // namespace
