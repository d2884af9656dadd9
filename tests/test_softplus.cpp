#include <xact/functions/softplus.hpp>

#include "reference/softplus.hpp"
#include "support.hpp"

namespace {

template <class T>
void register_softplus(const char* name, double beta, double thr, double fwd, double bx) {
  using R = xt::wide_t<T>;
  const xact::softplus op(beta, thr);
  xt::Register<T> f{
      xt::forward_case<T>(name, op, fwd, [=](R x) { return ref::softplus<T, R>(x, beta, thr); })};
  xt::Register<T> b{xt::backward_x_case<T>(
      name, op, bx, [=](R x) { return ref::softplus_grad<T, R>(x, beta, thr); })};
}

const double inf = std::numeric_limits<double>::infinity();

// The bounds: what the strided and exhaustive walks assert (README's table). PyTorch's default,
// the exact curve, and a beta that is not a power of two. beta = 1 float forward: 1 ulp on the
// strided walk, but a dense scan of |x| in [1/16, 2) finds 1303 of 83.9M inputs at 2 ulp (exp's
// error through log1p plus the rounding of the sum): the bound is 2.
const bool registered = [] {
  // -ffast-math: forward 3 (GCC 12 -O3 SSE2).
  register_softplus<float>("softplus", 1, 20, XT_FAST_MATH_BOUND(2, 3), 2);
  register_softplus<double>("softplus", 1, 20, XT_FAST_MATH_BOUND(2, 3), 2);
  register_softplus<float>("softplus_exact", 1, inf, XT_FAST_MATH_BOUND(2, 3), 2);
  register_softplus<double>("softplus_exact", 1, inf, XT_FAST_MATH_BOUND(2, 3), 2);
  register_softplus<float>("softplus_b0.3", 0.3, 20, XT_FAST_MATH_BOUND(2, 3), 2);
  register_softplus<double>("softplus_b0.3", 0.3, 20, XT_FAST_MATH_BOUND(2, 3), 2);
  return true;
}();

template <class T>
class Softplus : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Softplus, Types);

TYPED_TEST(Softplus, SpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  for (const xact::softplus& f : {xact::softplus{}, xact::softplus::exact()}) {
    EXPECT_EQ(f(T(0)), T(0.693147180559945309417L));
    EXPECT_EQ(f(T(-0.0)), T(0.693147180559945309417L));
    EXPECT_EQ(f(L::infinity()), L::infinity());
    EXPECT_EQ(f(-L::infinity()), T(0));
    EXPECT_FALSE(std::signbit(f(-L::infinity())));
    EXPECT_TRUE(std::isnan(f(L::quiet_NaN())));
    EXPECT_TRUE(std::isnan(f(-L::quiet_NaN())));
    EXPECT_EQ(f(L::max()), L::max());
    EXPECT_EQ(f(L::lowest()), T(0));
    EXPECT_EQ(f(L::denorm_min()), T(0.693147180559945309417L));
    // Never below 0 nor below x, no overflow anywhere.
    for (int i = -20000; i <= 20000; ++i) {
      const T x = T(i) * T(0.0137) * std::abs(T(i)) / T(100);
      const T y = f(x);
      ASSERT_TRUE(y >= T(0) && y >= x && std::isfinite(y)) << x;
    }
  }
  // A large beta: beta * x overflows while the result (x) is finite.
  const xact::softplus big(1e30);
  EXPECT_EQ(big(L::max()), L::max());
  EXPECT_EQ(xact::softplus::exact(1e30)(L::max()), L::max());
  EXPECT_EQ(big.backward_from_x(L::max(), T(1)), T(1));
  EXPECT_EQ(xact::softplus::exact(1e30).backward_from_x(L::max(), T(1)), T(1));
}

TYPED_TEST(Softplus, Thresholds) {
  using T = TypeParam;
  using R = xt::wide_t<T>;
  // PyTorch's switch: x beyond beta x > threshold, the curve at and below it.
  for (double beta : {1.0, 2.0, 0.3}) {
    const xact::softplus f(beta, 20);
    const T at = static_cast<T>(20 / beta);
    for (T x : {std::nextafter(at, T(0)), at, std::nextafter(at, T(100))}) {
      const T want = static_cast<T>(ref::softplus<T, R>(x, beta, 20));
      EXPECT_LE(xt::ulp_distance(f(x), want), 2.0) << beta << " " << x;
      const T gw = static_cast<T>(ref::softplus_grad<T, R>(x, beta, 20));
      EXPECT_LE(xt::ulp_distance(f.backward_from_x(x, T(1)), gw), 2.0) << beta << " " << x;
      if (ref::softplus_beyond<T>(x, beta, 20)) {
        EXPECT_EQ(f(x), x);
        EXPECT_EQ(f.backward_from_x(x, T(0.75)), T(0.75));
      }
    }
  }
  // Just beyond 20 the threshold mode returns x while the exact mode keeps the log term in
  // double (in float, log1p(e^-20) is below half an ulp of 20 and both give x).
  const T x = T(20.5);
  EXPECT_EQ(xact::softplus{}(x), x);
  EXPECT_LE(
      xt::ulp_distance(xact::softplus::exact()(x), static_cast<T>(ref::softplus<T, R>(x, 1, inf))),
      1.0);
  // The exact mode's own switch at z = 128, and thresholds above it or at +-inf.
  for (T z : {T(127.9), T(128), T(128.1), T(600)}) {
    EXPECT_EQ(xact::softplus::exact()(z), z);
    EXPECT_EQ(xact::softplus(1, 1000)(z), z);
    EXPECT_EQ(xact::softplus::exact().backward_from_x(z, T(1)), T(1));
  }
  EXPECT_EQ(xact::softplus(1, -inf)(T(-5)), T(-5));
  // Beyond 20 the threshold mode's gradient is exactly 1 (PyTorch), in double too.
  for (T z : {T(20.001), T(25), T(30)}) EXPECT_EQ(xact::softplus{}.backward_from_x(z, T(1)), T(1));
}

TYPED_TEST(Softplus, TinyOutputsKeepFullRelativeAccuracy) {
  using T = TypeParam;
  using R = xt::wide_t<T>;
  const T xs[] = {T(-20), T(-50), T(-87.5), T(-90), T(-100), T(-103.5), T(-700), T(-740), T(-745)};
  // A small beta: e^z / beta is normal where e^z is subnormal (the division must not magnify
  // e^z's rounding in the subnormals: 547 ulp at beta = 0.001 before).
  for (double beta : {1.0, 0.3, 2.0, 0.001, 1e-20}) {
    const xact::softplus f(beta);
    for (T x0 : xs) {
      const T x = static_cast<T>(x0 / beta);
      const R r = ref::softplus<T, R>(x, beta, 20);
      if (static_cast<T>(r) == T(0)) continue;  // below this type's range
      EXPECT_GT(f(x), T(0)) << x;
      EXPECT_LE(xt::ulp_distance(f(x), static_cast<T>(r)), 2.0) << beta << " " << x;
      const R g = ref::softplus_grad<T, R>(x, beta, 20);
      EXPECT_GT(f.backward_from_x(x, T(1)), T(0)) << x;
      EXPECT_LE(xt::ulp_distance(f.backward_from_x(x, T(1)), static_cast<T>(g)), 2.0) << x;
    }
  }
}

TYPED_TEST(Softplus, BackwardSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  for (const xact::softplus& f : {xact::softplus{}, xact::softplus::exact()}) {
    EXPECT_EQ(f.backward_from_x(T(0), T(1)), T(0.5));
    EXPECT_EQ(f.backward_from_x(T(-0.0), T(1)), T(0.5));
    EXPECT_EQ(f.backward_from_x(L::infinity(), T(1)), T(1));
    EXPECT_EQ(f.backward_from_x(-L::infinity(), T(1)), T(0));
    EXPECT_EQ(f.backward_from_x(L::max(), T(-3)), T(-3));
    // A huge dy: no overflow. (Not L::max(): without an fma, two_prod's Dekker split of dy
    // overflows above max / 2^12 (float) / 2^27 (double); simd::two_prod's limit.)
    EXPECT_EQ(f.backward_from_x(T(0), L::max() * T(0x1p-30)), L::max() * T(0x1p-31));
    // Exactly 1 far right (once e^-x < half an ulp of 1), never 0 or NaN.
    for (T x : {T(sizeof(T) == 4 ? 17.4 : 37.5), T(40), T(1e10)})
      EXPECT_EQ(f.backward_from_x(x, T(1)), T(1)) << x;
    // dy = +-inf: +-inf wherever sigmoid(x) is not 0 (the correction terms are NaN there).
    for (T x : {T(-3), T(0), T(3), T(30)}) {
      EXPECT_EQ(f.backward_from_x(x, L::infinity()), L::infinity()) << x;
      EXPECT_EQ(f.backward_from_x(x, -L::infinity()), -L::infinity()) << x;
    }
    EXPECT_TRUE(std::isnan(f.backward_from_x(L::quiet_NaN(), T(1))));
    EXPECT_TRUE(std::isnan(f.backward_from_x(T(1), L::quiet_NaN())));
    EXPECT_TRUE(std::isnan(f.backward_from_x(T(30), L::quiet_NaN())));
  }
}

TYPED_TEST(Softplus, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  for (double beta : {1.0, 0.3, 3.0}) {
    const xact::softplus f = xact::softplus::exact(beta);
    auto fl = [beta](long double x) {
      return ref::softplus<long double, long double>(x, beta, inf);
    };
    for (long double x = -30; x <= 30; x += 0.37L) {
      const long double num = xt::central_difference(fl, x);
      const long double got = f.backward_from_x(static_cast<T>(x), T(1));
      EXPECT_NEAR(got, num, 1e-6L * std::fabs(num) + 1e-12L) << beta << " " << x;
    }
  }
}

TYPED_TEST(Softplus, ParameterValidation) {
  XT_SKIP_IF_FAST_MATH();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW((xact::softplus{0}), std::invalid_argument);
  EXPECT_THROW((xact::softplus{-1}), std::invalid_argument);
  EXPECT_THROW((xact::softplus{nan}), std::invalid_argument);
  EXPECT_THROW((xact::softplus{inf}), std::invalid_argument);
  EXPECT_THROW((xact::softplus{1e-300}), std::invalid_argument);  // 0 in float
  EXPECT_THROW((xact::softplus{1, nan}), std::invalid_argument);
  EXPECT_THROW(xact::softplus::exact(-2), std::invalid_argument);
  EXPECT_NO_THROW((xact::softplus{0.5, inf}));
  EXPECT_NO_THROW((xact::softplus{0.5, -inf}));
  EXPECT_EQ(xact::softplus().beta(), 1.0);
  EXPECT_EQ(xact::softplus().threshold(), 20.0);
  EXPECT_EQ(xact::softplus::exact().threshold(), inf);
}

TYPED_TEST(Softplus, Drivers) {
  xt::check_conformance<TypeParam>(xact::softplus{});
  xt::check_conformance<TypeParam>(xact::softplus::exact(0.3));
}

}  // namespace
