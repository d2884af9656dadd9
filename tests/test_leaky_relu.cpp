#include <xact/functions/leaky_relu.hpp>

#include "reference/leaky_relu.hpp"
#include "support.hpp"

namespace {

template <class T>
void register_leaky_relu(const char* name, double slope) {
  using R = xt::wide_t<T>;
  const xact::leaky_relu op{slope};
  const R a = static_cast<R>(static_cast<T>(slope));
  // For x <= 0 the correctly rounded result is T's own product slope * x (one IEEE rounding);
  // computing it in R first would round twice where it is subnormal in T (for double: R's wider
  // exponent range keeps it normal, then the cast rounds again).
  const T at = static_cast<T>(slope);
  xt::Register<T> f{xt::forward_case<T>(name, op, 0, [a, at](R x) {
    return std::isfinite(x) && x <= 0 ? static_cast<R>(at * static_cast<T>(x))
                                      : ref::leaky_relu<R>(x, a);
  })};
  xt::Register<T> b{
      xt::backward_x_case<T>(name, op, 0, [a](R x) { return ref::leaky_relu_grad<R>(x, a); })};
  if (slope > 0) {
    // From y: the derivative as a function of y has the same shape (y > 0 iff x > 0).
    xt::Register<T> y{
        xt::backward_y_case<T>(name, op, 0, [a](R y) { return ref::leaky_relu_grad<R>(y, a); })};
  }
}

// The bounds: exact (0 ulp) in every direction.
const bool registered = [] {
  register_leaky_relu<float>("leaky_relu", 0.01);
  register_leaky_relu<double>("leaky_relu", 0.01);
  register_leaky_relu<float>("leaky_relu(-0.7)", -0.7);
  register_leaky_relu<double>("leaky_relu(-0.7)", -0.7);
  return true;
}();

template <class T>
class LeakyRelu : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(LeakyRelu, Types);

TYPED_TEST(LeakyRelu, SpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const T inf = L::infinity();
  const xact::leaky_relu f;  // slope 0.01
  EXPECT_EQ(f.slope(), 0.01);
  EXPECT_EQ(f(T(2)), T(2));
  EXPECT_EQ(f(T(-2)), T(-2) * static_cast<T>(0.01));
  EXPECT_EQ(f(T(0)), T(0));
  EXPECT_FALSE(std::signbit(f(T(0))));
  EXPECT_TRUE(std::signbit(f(T(-0.0))));
  EXPECT_EQ(f(inf), inf);
  EXPECT_EQ(f(-inf), -inf);
  EXPECT_EQ(f(L::max()), L::max());
  EXPECT_EQ(f(L::lowest()), L::lowest() * static_cast<T>(0.01));
  EXPECT_EQ(f(L::denorm_min()), L::denorm_min());
  EXPECT_EQ(f(-L::denorm_min()), T(0));  // underflows: -0
  EXPECT_TRUE(std::signbit(f(-L::denorm_min())));
  EXPECT_TRUE(std::isnan(f(L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(f(-L::quiet_NaN())));
  // slope 0 (ReLU's values, with -0 on the left, and no 0 * inf = NaN).
  const xact::leaky_relu z{0.0};
  EXPECT_EQ(z(-inf), T(0));
  EXPECT_FALSE(std::isnan(z(-inf)));
  EXPECT_EQ(z(T(-3)), T(0));
  EXPECT_EQ(z(T(3)), T(3));
  EXPECT_TRUE(std::isnan(z(L::quiet_NaN())));
  // negative slope
  const xact::leaky_relu m{-0.5};
  EXPECT_EQ(m(T(-4)), T(2));
  EXPECT_EQ(m(-inf), inf);
  EXPECT_FALSE(std::signbit(m(T(-0.0))));
  // slope > 1 overflows only where the true result does
  const xact::leaky_relu g{4.0};
  EXPECT_EQ(g(L::lowest()), -inf);
  EXPECT_EQ(g(T(-1)), T(-4));
}

TYPED_TEST(LeakyRelu, Backward) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const T inf = L::infinity();
  const xact::leaky_relu f{0.25};
  EXPECT_EQ(f.backward_from_x(T(1), T(3)), T(3));
  EXPECT_EQ(f.backward_from_x(T(-1), T(3)), T(0.75));
  // The derivative at 0 (both zeros) is the slope, as in PyTorch.
  EXPECT_EQ(f.backward_from_x(T(0), T(3)), T(0.75));
  EXPECT_EQ(f.backward_from_x(T(-0.0), T(3)), T(0.75));
  EXPECT_EQ(f.backward_from_y(T(0), T(3)), T(0.75));
  EXPECT_EQ(f.backward_from_y(T(-0.0), T(3)), T(0.75));
  EXPECT_EQ(f.backward_from_x(inf, T(3)), T(3));
  EXPECT_EQ(f.backward_from_x(-inf, T(3)), T(0.75));
  EXPECT_TRUE(std::isnan(f.backward_from_x(L::quiet_NaN(), T(1))));
  EXPECT_TRUE(std::isnan(f.backward_from_x(T(1), L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(f.backward_from_y(L::quiet_NaN(), T(1))));
  // y from a tiny negative x underflows to -0 and still selects the slope.
  const T y = f(-L::denorm_min());
  EXPECT_EQ(f.backward_from_y(y, T(1)), T(0.25));
  // backward from y = backward from x on y = f(x), for slope > 0
  for (int i = -300; i <= 300; ++i) {
    const T x = T(i) * T(0.37);
    EXPECT_EQ(f.backward_from_y(f(x), T(1.5)), f.backward_from_x(x, T(1.5))) << x;
  }
  // slope 0: dx = 0 on the left, NaN for an infinite dy (IEEE inf * 0), like ReLU.
  const xact::leaky_relu z{0.0};
  EXPECT_EQ(z.backward_from_x(T(-2), T(5)), T(0));
  EXPECT_TRUE(std::isnan(z.backward_from_x(T(-2), inf)));
}

TYPED_TEST(LeakyRelu, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  for (double slope : {0.01, 0.3, -0.7, 2.5}) {
    const xact::leaky_relu f{slope};
    const long double a = static_cast<T>(slope);
    for (long double x = -30; x <= 30; x += 0.37L) {
      const long double num = xt::central_difference(
          [a](long double v) { return ref::leaky_relu<long double>(v, a); }, x);
      EXPECT_NEAR(f.backward_from_x(static_cast<T>(x), T(1)), num, 1e-9L) << x;
    }
  }
}

TYPED_TEST(LeakyRelu, Drivers) {
  using T = TypeParam;
  xt::check_conformance<T>(xact::leaky_relu{});
  // slope <= 0: no backward_from_y (it throws), forward and backward_from_x only.
  for (double slope : {0.0, -1.5}) {
    const xact::leaky_relu op{slope};
    xt::check_driver<T>(
        "forward", [&](const T* x, const T*, T* y, std::size_t n) { xact::forward(op, x, y, n); },
        [&](T x, T) { return op.forward(x); });
    xt::check_driver<T>(
        "backward_from_x",
        [&](const T* x, const T* dy, T* dx, std::size_t n) {
          xact::backward_from_x(op, x, dy, dx, n);
        },
        [&](T x, T dy) { return op.backward_from_x(x, dy); });
  }
}

TEST(LeakyRelu, ParameterValidation) {
  XT_SKIP_IF_FAST_MATH();
  using L = std::numeric_limits<double>;
  EXPECT_THROW(xact::leaky_relu{L::infinity()}, std::invalid_argument);
  EXPECT_THROW(xact::leaky_relu{-L::infinity()}, std::invalid_argument);
  EXPECT_THROW(xact::leaky_relu{L::quiet_NaN()}, std::invalid_argument);
  EXPECT_NO_THROW(xact::leaky_relu{0.0});
  EXPECT_NO_THROW(xact::leaky_relu{-3.0});
  // backward_from_y needs slope > 0: the driver checks before touching memory.
  std::vector<float> y(4, -1.f), dy(4, 1.f), dx(4);
  EXPECT_THROW(xact::backward_from_y(xact::leaky_relu{0.0}, y, dy, dx), std::invalid_argument);
  EXPECT_THROW(xact::backward_from_y(xact::leaky_relu{-0.2}, y, dy, dx), std::invalid_argument);
  EXPECT_THROW(xact::leaky_relu{-0.2}.check_backward_from_y(), std::invalid_argument);
  EXPECT_NO_THROW(xact::backward_from_y(xact::leaky_relu{0.2}, y, dy, dx));
  EXPECT_EQ(dx[0], 0.2f);
}

}  // namespace
