#include <xact/functions/tanh.hpp>

#include "reference/tanh.hpp"
#include "support.hpp"

namespace {

template <class T>
void register_tanh(double fwd, double bx, double by) {
  using R = xt::wide_t<T>;
  xt::Register<T> f{xt::forward_case<T>("tanh", xact::tanh{}, fwd, ref::tanh<R>)};
  xt::Register<T> b{xt::backward_x_case<T>("tanh", xact::tanh{}, bx, ref::tanh_grad<R>)};
  auto c = xt::backward_y_case<T>("tanh", xact::tanh{}, by, ref::tanh_grad_y<R>);
  c.lo = -1;  // y is a tanh output
  c.hi = 1;
  xt::Register<T> y{c};
}

// The bounds: what the strided and exhaustive walks assert (README's table).
const bool registered = [] {
  // -ffast-math: backward_from_x 3 (GCC 12 -O3, native and SSE2).
  register_tanh<float>(2, XT_FAST_MATH_BOUND(2, 3), 2);
  register_tanh<double>(2, XT_FAST_MATH_BOUND(2, 3), 2);
  return true;
}();

template <class T>
class Tanh : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Tanh, Types);

TYPED_TEST(Tanh, SpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::tanh f;
  EXPECT_EQ(f(T(0)), T(0));
  EXPECT_FALSE(std::signbit(f(T(0))));
  EXPECT_EQ(f(T(-0.0)), T(0));
  EXPECT_TRUE(std::signbit(f(T(-0.0))));
  EXPECT_EQ(f(L::infinity()), T(1));
  EXPECT_EQ(f(-L::infinity()), T(-1));
  EXPECT_TRUE(std::isnan(f(L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(f(-L::quiet_NaN())));
  EXPECT_EQ(f(L::max()), T(1));
  EXPECT_EQ(f(L::lowest()), T(-1));
  // tanh x = x (rounded) for subnormal and tiny x: no cancellation.
  EXPECT_EQ(f(L::denorm_min()), L::denorm_min());
  EXPECT_EQ(f(-L::denorm_min()), -L::denorm_min());
  EXPECT_EQ(f(L::min()), L::min());
  EXPECT_EQ(f(T(1e-20)), T(1e-20));
  // Odd, never beyond +-1, saturating to exactly +-1, across the whole range (fast
  // approximations overshoot to 1.0000001 around |x| = 7..9).
  for (int i = -20000; i <= 20000; ++i) {
    const T x = T(i) * T(0.0137) * std::abs(T(i)) / T(100);  // up to +-5480, denser near 0
    const T y = f(x);
    ASSERT_TRUE(y >= T(-1) && y <= T(1)) << x;
    ASSERT_EQ(f(-x), -y) << x;
  }
  for (T x = T(6); x < T(25); x += T(0.001)) ASSERT_LE(f(x), T(1)) << x;
  // The point where the result rounds to 1, and beyond exp's fast range (|2x| > 86.5).
  const T sat = sizeof(T) == 4 ? T(9.1) : T(19.1);
  EXPECT_EQ(f(sat), T(1));
  EXPECT_EQ(f(T(20)), T(1));
  EXPECT_EQ(f(T(40)), T(1));
  EXPECT_EQ(f(T(-40)), T(-1));
  EXPECT_EQ(f(T(50)), T(1));
  EXPECT_EQ(f(T(-400)), T(-1));
  // Both sides of the polynomial's limit (0.5625), of tanh = 0.5 (0.5493) and of exp's
  // reduction boundaries (k = 0 / -1 at 2|x| = ln2/2), each side alone and both in one batch.
  using R = xt::wide_t<T>;
  const T lim = xact::tanh::poly_limit<T>();
  const T pts[] = {T(0.1732867),
                   T(0.1732868),
                   T(0.17),
                   T(0.18),
                   T(0.5493),
                   T(0.5494),
                   std::nextafter(lim, T(0)),
                   lim,
                   std::nextafter(lim, T(1)),
                   T(1),
                   T(3),
                   T(8.9),
                   T(9.0)};
  for (T x : pts) {
    EXPECT_LE(xt::ulp_distance(f(x), static_cast<T>(ref::tanh<R>(x))), 2.0) << x;
    EXPECT_LE(xt::ulp_distance(f(-x), static_cast<T>(ref::tanh<R>(-x))), 2.0) << x;
  }
  // The scalar call is each lane of a batch whose lanes take either side of the limit.
  using B = xsimd::batch<T>;
  alignas(64) T in[B::size], out[B::size];
  for (std::size_t j = 0; j < B::size; ++j) in[j] = pts[j % (sizeof pts / sizeof pts[0])];
  xact::tanh{}.forward(B::load_aligned(in)).store_aligned(out);
  for (std::size_t j = 0; j < B::size; ++j) EXPECT_EQ(out[j], f(in[j])) << in[j];
}

TYPED_TEST(Tanh, BackwardSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::tanh f;
  EXPECT_EQ(f.backward_from_x(T(0), T(1)), T(1));
  EXPECT_EQ(f.backward_from_x(T(-0.0), T(1)), T(1));
  EXPECT_EQ(f.backward_from_y(T(0), T(1)), T(1));
  EXPECT_EQ(f.backward_from_x(L::infinity(), T(1)), T(0));
  EXPECT_EQ(f.backward_from_x(-L::infinity(), T(1)), T(0));
  EXPECT_EQ(f.backward_from_x(L::max(), T(1)), T(0));
  EXPECT_EQ(f.backward_from_y(T(1), T(1)), T(0));
  EXPECT_EQ(f.backward_from_y(T(-1), T(1)), T(0));
  EXPECT_EQ(f.backward_from_x(L::denorm_min(), T(2)), T(2));
  // No overflow for a huge dy (dy * 4 would). Not L::max(): without an fma, two_prod's Dekker
  // split of dy overflows above max / 2^12 (2^27 in double) (simd::two_prod's limit).
  EXPECT_EQ(f.backward_from_x(T(0), L::max() * T(0x1p-30)), L::max() * T(0x1p-30));
  EXPECT_EQ(f.backward_from_x(T(0.5), L::max() * T(0x1p-30)),
            static_cast<T>(L::max() * T(0x1p-30) * ref::tanh_grad<xt::wide_t<T>>(T(0.5))));
  EXPECT_TRUE(std::isnan(f.backward_from_x(L::quiet_NaN(), T(1))));
  EXPECT_TRUE(std::isnan(f.backward_from_x(T(1), L::quiet_NaN())));
  EXPECT_TRUE(std::isnan(f.backward_from_y(L::quiet_NaN(), T(1))));
  EXPECT_TRUE(std::isnan(f.backward_from_y(T(0.5), L::quiet_NaN())));
  // Where 1 - y^2 from y cancels (y rounds to 1), the derivative from x is still accurate,
  // down into the subnormals.
  using R = xt::wide_t<T>;
  for (T x : {T(12), T(-30), T(40), T(-50), T(300), T(-355)}) {
    if (static_cast<T>(ref::tanh_grad<R>(x)) == T(0)) continue;
    if (std::abs(f(x)) == T(1)) {
      EXPECT_EQ(f.backward_from_y(f(x), T(1)), T(0));
    }
    EXPECT_GT(f.backward_from_x(x, T(1)), T(0));
    EXPECT_LE(xt::ulp_distance(f.backward_from_x(x, T(1)), static_cast<T>(ref::tanh_grad<R>(x))),
              2.0)
        << x;
  }
}

TYPED_TEST(Tanh, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  const xact::tanh f;
  for (long double x = -15; x <= 15; x += 0.37L) {
    const long double num = xt::central_difference(ref::tanh<long double>, x);
    const long double got = f.backward_from_x(static_cast<T>(x), T(1));
    EXPECT_NEAR(got, num, 1e-6L * std::fabs(num) + 1e-12L) << x;
    const long double gy = f.backward_from_y(f(static_cast<T>(x)), T(1));
    // y rounded to T: 1 - y^2 is off by 2|y| ulp(y) (~1.2e-7 in float).
    EXPECT_NEAR(gy, num, 1e-5L * std::fabs(num) + (sizeof(T) == 4 ? 3e-7L : 1e-12L)) << x;
  }
}

TYPED_TEST(Tanh, Drivers) { xt::check_conformance<TypeParam>(xact::tanh{}); }

}  // namespace
