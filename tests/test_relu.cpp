#include <xact/functions/relu.hpp>

#include "reference/reference.hpp"
#include "support.hpp"

namespace {

template <class T>
void register_relu() {
  using R = xt::wide_t<T>;
  xt::Register<T> f{xt::forward_case<T>("relu", xact::relu{}, 0, ref::relu<R>)};
  xt::Register<T> b{xt::backward_x_case<T>("relu", xact::relu{}, 0, ref::relu_grad<R>)};
  auto c = xt::backward_y_case<T>("relu", xact::relu{}, 0, ref::relu_grad<R>);
  c.lo = 0;  // y is a relu output
  xt::Register<T> y{c};
}

const bool registered = [] {
  register_relu<float>();
  register_relu<double>();
  return true;
}();

template <class T>
class Relu : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Relu, Types);

TYPED_TEST(Relu, SignsAndSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::relu r;
  EXPECT_EQ(r(T(2.5)), T(2.5));
  // relu(-1) and relu(-0) are +0: the sign bit is cleared.
  EXPECT_EQ(r(T(-1)), T(0));
  EXPECT_FALSE(std::signbit(r(T(-1))));
  EXPECT_FALSE(std::signbit(r(T(-0.0))));
  EXPECT_FALSE(std::signbit(r(T(0))));
  EXPECT_EQ(r(L::infinity()), L::infinity());
  EXPECT_EQ(r(-L::infinity()), T(0));
  EXPECT_EQ(r(L::denorm_min()), L::denorm_min());
  EXPECT_TRUE(std::isnan(r(L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(r(-L::quiet_NaN())));
  // The same through the array driver: a SIMD max that drops NaN would fail here.
  std::vector<T> x = {L::quiet_NaN(), T(-0.0), T(-1), T(3), -L::quiet_NaN()};
  x.resize(2 * xsimd::batch<T>::size + 1, L::quiet_NaN());
  std::vector<T> y(x.size());
  xact::forward(r, x, y);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_FALSE(std::signbit(y[1]));
  EXPECT_EQ(y[2], T(0));
  EXPECT_EQ(y[3], T(3));
  for (std::size_t i = 4; i < y.size(); ++i) EXPECT_TRUE(std::isnan(y[i])) << i;
}

TYPED_TEST(Relu, Backward) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::relu r;
  EXPECT_EQ(r.backward_from_x(T(1), T(3)), T(3));
  EXPECT_EQ(r.backward_from_x(T(0), T(3)), T(0));  // relu'(0) = 0
  EXPECT_EQ(r.backward_from_x(T(-0.0), T(3)), T(0));
  EXPECT_EQ(r.backward_from_x(T(-2), T(3)), T(0));
  EXPECT_EQ(r.backward_from_x(L::denorm_min(), T(3)), T(3));
  EXPECT_TRUE(std::isnan(r.backward_from_x(L::quiet_NaN(), T(3))));
  EXPECT_TRUE(std::isnan(r.backward_from_x(T(1), L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(r.backward_from_x(T(-1), L::quiet_NaN())));
  EXPECT_EQ(r.backward_from_y(T(0), T(3)), T(0));
  EXPECT_EQ(r.backward_from_y(T(2), T(3)), T(3));
  // NaN through the array driver too.
  std::vector<T> x(3 * xsimd::batch<T>::size + 1, T(-1)), dy(x.size(), T(2)), dx(x.size());
  x[1] = L::quiet_NaN();
  dy[2] = L::quiet_NaN();
  xact::backward_from_x(r, x, dy, dx);
  EXPECT_EQ(dx[0], T(0));
  EXPECT_TRUE(std::isnan(dx[1]));
  EXPECT_TRUE(std::isnan(dx[2]));
}

TYPED_TEST(Relu, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  for (long double x = -3.05L; x <= 3; x += 0.1L) {
    const long double num = xt::central_difference(ref::relu<long double>, x);
    EXPECT_NEAR(xact::relu{}.backward_from_x(static_cast<T>(x), T(1)), num, 1e-9L) << x;
  }
}

TYPED_TEST(Relu, Drivers) { xt::check_conformance<TypeParam>(xact::relu{}); }

}  // namespace
