#include <xact/functions/sigmoid.hpp>

#include "reference/reference.hpp"
#include "support.hpp"

namespace {

template <class T>
void register_sigmoid(double fwd, double bx, double by) {
  using R = xt::wide_t<T>;
  xt::Register<T> f{xt::forward_case<T>("sigmoid", xact::sigmoid{}, fwd, ref::sigmoid<R>)};
  xt::Register<T> b{xt::backward_x_case<T>("sigmoid", xact::sigmoid{}, bx, ref::sigmoid_grad<R>)};
  auto c = xt::backward_y_case<T>("sigmoid", xact::sigmoid{}, by, ref::sigmoid_grad_y<R>);
  c.lo = 0;  // y is a sigmoid output
  c.hi = 1;
  xt::Register<T> y{c};
}

// The bounds: what the strided and exhaustive walks assert (README's table).
const bool registered = [] {
  register_sigmoid<float>(2, 2, 2);
  register_sigmoid<double>(2, 2, 2);
  return true;
}();

template <class T>
class Sigmoid : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Sigmoid, Types);

TYPED_TEST(Sigmoid, SpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::sigmoid s;
  EXPECT_EQ(s(T(0)), T(0.5));
  EXPECT_EQ(s(T(-0.0)), T(0.5));
  EXPECT_EQ(s(L::infinity()), T(1));
  EXPECT_EQ(s(-L::infinity()), T(0));
  EXPECT_FALSE(std::signbit(s(-L::infinity())));
  EXPECT_TRUE(std::isnan(s(L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(s(-L::quiet_NaN())));
  EXPECT_EQ(s(L::max()), T(1));
  EXPECT_EQ(s(L::lowest()), T(0));
  EXPECT_EQ(s(L::denorm_min()), T(0.5));
  EXPECT_EQ(s(-L::denorm_min()), T(0.5));
  // Never above 1 nor below 0, with no overflow anywhere, across the whole range.
  for (int i = -20000; i <= 20000; ++i) {
    const T x = T(i) * T(0.0137) * std::abs(T(i)) / T(100);  // up to +-5480, denser near 0
    const T y = s(x);
    ASSERT_TRUE(y >= T(0) && y <= T(1)) << x;
  }
}

TYPED_TEST(Sigmoid, TinyOutputsKeepFullRelativeAccuracy) {
  using T = TypeParam;
  using R = xt::wide_t<T>;
  // Down to the subnormals: s(x) ~ e^x, never flushed to 0 while the true value rounds above 0.
  const T xs[] = {T(-50), T(-87.5), T(-90), T(-100), T(-103.5), T(-700), T(-740), T(-745)};
  for (T x : xs) {
    const R r = ref::sigmoid<R>(x);
    if (static_cast<T>(r) == T(0)) continue;  // below this type's range
    EXPECT_GT(xact::sigmoid{}(x), T(0)) << x;
    EXPECT_LE(xt::ulp_distance(xact::sigmoid{}(x), static_cast<T>(r)), 1.0) << x;
  }
}

TYPED_TEST(Sigmoid, BackwardSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::sigmoid s;
  EXPECT_EQ(s.backward_from_x(T(0), T(1)), T(0.25));
  EXPECT_EQ(s.backward_from_y(T(0.5), T(1)), T(0.25));
  EXPECT_EQ(s.backward_from_x(L::infinity(), T(1)), T(0));
  EXPECT_EQ(s.backward_from_x(-L::infinity(), T(1)), T(0));
  EXPECT_TRUE(std::isnan(s.backward_from_x(L::quiet_NaN(), T(1))));
  EXPECT_TRUE(std::isnan(s.backward_from_x(T(1), L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(s.backward_from_y(L::quiet_NaN(), T(1))));
  EXPECT_TRUE(std::isnan(s.backward_from_y(T(0.5), L::quiet_NaN())));
  // Infinite and huge dy: the product, never inf - inf, never a false overflow.
  EXPECT_EQ(s.backward_from_x(-L::min(), -L::infinity()), -L::infinity());
  EXPECT_EQ(s.backward_from_x(T(3), L::infinity()), L::infinity());
  EXPECT_EQ(s.backward_from_y(T(0.5), L::infinity()), L::infinity());
  EXPECT_EQ(s.backward_from_x(T(0), L::max()), L::max() / 4);
  EXPECT_EQ(s.backward_from_x(T(0), -L::max()), -L::max() / 4);
  EXPECT_EQ(s.backward_from_y(T(0.5), L::max()), L::max() / 4);
  EXPECT_TRUE(std::isnan(s.backward_from_x(L::infinity(), L::infinity())));  // inf * 0
  // Where s(1-s) from y cancels (y rounds to 1), the derivative from x is still accurate.
  const T x = T(40);
  EXPECT_EQ(s.backward_from_y(s(x), T(1)), T(0));
  EXPECT_GT(s.backward_from_x(x, T(1)), T(0));
  EXPECT_LE(xt::ulp_distance(s.backward_from_x(x, T(1)),
                             static_cast<T>(ref::sigmoid_grad<xt::wide_t<T>>(x))),
            2.0);
}

TYPED_TEST(Sigmoid, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  const xact::sigmoid s;
  for (long double x = -30; x <= 30; x += 0.37L) {
    const long double num = xt::central_difference(ref::sigmoid<long double>, x);
    const long double got = s.backward_from_x(static_cast<T>(x), T(1));
    EXPECT_NEAR(got, num, 1e-6L * std::fabs(num) + 1e-12L) << x;
    const long double gy = s.backward_from_y(s(static_cast<T>(x)), T(1));
    EXPECT_NEAR(gy, num, 1e-5L * std::fabs(num) + (sizeof(T) == 4 ? 1e-7L : 1e-12L)) << x;
  }
}

TYPED_TEST(Sigmoid, Drivers) { xt::check_conformance<TypeParam>(xact::sigmoid{}); }

}  // namespace
