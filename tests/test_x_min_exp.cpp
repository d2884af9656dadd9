#include <xact/functions/x_min_exp.hpp>

#include "reference/x_min_exp.hpp"
#include "support.hpp"

namespace {

template <class T>
void register_x_min_exp(double fwd, double bx) {
  using R = xt::wide_t<T>;
  const xact::x_min_exp op;
  xt::Register<T> f{xt::forward_case<T>("x_min_exp", op, fwd, ref::x_min_exp<R>)};
  // No absolute floor: the derivative keeps full relative accuracy at its zero x = -1.
  xt::Register<T> b{xt::backward_x_case<T>("x_min_exp", op, bx, ref::x_min_exp_grad<R>)};
}

// The bounds: what the strided and exhaustive walks assert (README's table).
const bool registered = [] {
  register_x_min_exp<float>(1, 2);
  register_x_min_exp<double>(1, 2);
  return true;
}();

template <class T>
class XMinExp : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(XMinExp, Types);

TYPED_TEST(XMinExp, SpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::x_min_exp f;
  EXPECT_EQ(f(T(0)), T(0));
  EXPECT_FALSE(std::signbit(f(T(0))));
  EXPECT_EQ(f(T(-0.0)), T(0));
  EXPECT_TRUE(std::signbit(f(T(-0.0))));
  EXPECT_EQ(f(L::infinity()), L::infinity());
  EXPECT_EQ(f(-L::infinity()), T(0));
  EXPECT_TRUE(std::signbit(f(-L::infinity())));
  EXPECT_EQ(f(L::lowest()), T(0));
  EXPECT_TRUE(std::signbit(f(L::lowest())));
  EXPECT_EQ(f(L::max()), L::max());
  EXPECT_TRUE(std::isnan(f(L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(f(-L::quiet_NaN())));
  EXPECT_EQ(f(L::denorm_min()), L::denorm_min());
  // -denorm_min * e^-denorm_min rounds back to -denorm_min.
  EXPECT_EQ(f(-L::denorm_min()), -L::denorm_min());
  EXPECT_EQ(f(T(1)), T(1));
  EXPECT_EQ(f(T(123.5)), T(123.5));
  // The minimum of x e^x is at x = -1: -1/e. Never below it, never above 0 for x < 0.
  for (int i = 1; i <= 40000; ++i) {
    const T x = -T(i) * T(0.0137) * T(i) / T(100);  // down to -219, denser near 0
    const T y = f(x);
    ASSERT_TRUE(y <= T(0) && y >= T(-0.36787945)) << x;
  }
}

TYPED_TEST(XMinExp, TinyOutputsKeepFullRelativeAccuracy) {
  using T = TypeParam;
  using R = xt::wide_t<T>;
  const xact::x_min_exp f;
  // Normal results built from subnormal e^x, then subnormal results, then the clamp threshold.
  const T xs[] = {T(-80),  T(-87.5), T(-90),  T(-95),  T(-100), T(-103.5), T(-105), T(-108),
                  T(-112), T(-113),  T(-700), T(-740), T(-745), T(-750),   T(-759), T(-761)};
  for (T x : xs) {
    const R r = ref::x_min_exp<R>(x);
    EXPECT_LE(xt::ulp_distance(f(x), static_cast<T>(r)), 1.0) << x;
    EXPECT_LE(
        xt::ulp_distance(f.backward_from_x(x, T(1)), static_cast<T>(ref::x_min_exp_grad<R>(x))),
        1.0)
        << x;
    if (static_cast<T>(r) != T(0)) {
      EXPECT_LT(f(x), T(0)) << x;
    }
  }
}

TYPED_TEST(XMinExp, BackwardSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::x_min_exp f;
  EXPECT_EQ(f.backward_from_x(T(0), T(3)), T(3));
  EXPECT_EQ(f.backward_from_x(T(-0.0), T(3)), T(3));
  EXPECT_EQ(f.backward_from_x(T(2), T(-1.5)), T(-1.5));
  EXPECT_EQ(f.backward_from_x(T(-1), T(1)), T(0));  // the minimum
  EXPECT_EQ(f.backward_from_x(L::infinity(), T(2)), T(2));
  EXPECT_EQ(f.backward_from_x(-L::infinity(), T(2)), T(0));
  EXPECT_EQ(f.backward_from_x(L::lowest(), T(2)), T(0));
  EXPECT_TRUE(std::isnan(f.backward_from_x(L::quiet_NaN(), T(1))));
  EXPECT_TRUE(std::isnan(f.backward_from_x(T(1), L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(f.backward_from_x(T(-1), L::quiet_NaN())));
  // Full relative accuracy right next to the zero of the derivative.
  using R = xt::wide_t<T>;
  T x = T(-1);
  for (int i = 0; i < 8; ++i) {
    x = std::nextafter(x, T(0));
    const T want = static_cast<T>(ref::x_min_exp_grad<R>(x));
    EXPECT_LE(xt::ulp_distance(f.backward_from_x(x, T(1)), want), 1.0) << x;
    const T xm = std::nextafter(T(-1) - (x + T(1)), T(-2));
    EXPECT_LE(
        xt::ulp_distance(f.backward_from_x(xm, T(1)), static_cast<T>(ref::x_min_exp_grad<R>(xm))),
        1.0)
        << xm;
  }
}

TYPED_TEST(XMinExp, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  const xact::x_min_exp f;
  for (long double x = -30; x <= 30; x += 0.37L) {
    if (std::fabs(x) < 1e-3L) continue;  // the kink of f'' at 0: f is C1 only
    const long double num = xt::central_difference(ref::x_min_exp<long double>, x);
    const long double got = f.backward_from_x(static_cast<T>(x), T(1));
    EXPECT_NEAR(got, num, 1e-6L * std::fabs(num) + 1e-12L) << x;
  }
}

TYPED_TEST(XMinExp, Drivers) { xt::check_conformance<TypeParam>(xact::x_min_exp{}); }

}  // namespace
