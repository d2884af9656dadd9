// The math core's additions (expm1, log1p): accuracy over the whole range, special values, and
// the scalar call bit-identical to the batch lanes.
#include <xact/core/math.hpp>

#include "support.hpp"

namespace {

struct expm1_op {
  template <class V>
  V forward(const V& x) const noexcept {
    return xact::math::expm1(x);
  }
};
struct log1p_op {
  template <class V>
  V forward(const V& x) const noexcept {
    return xact::math::log1p(x);
  }
};

template <class R>
R ref_expm1(R x) {
  return std::expm1(x);
}
template <class R>
R ref_log1p(R x) {
  return std::log1p(x);
}

template <class T>
void register_math_ext(double e, double l) {
  using R = xt::wide_t<T>;
  xt::Register<T> a{xt::forward_case<T>("math::expm1", expm1_op{}, e, ref_expm1<R>)};
  xt::Register<T> b{xt::forward_case<T>("math::log1p", log1p_op{}, l, ref_log1p<R>)};
}

const bool registered = [] {
  register_math_ext<float>(1, XT_FAST_MATH_BOUND(1, 2));  // -ffast-math SSE2: 2 (log1p)
  register_math_ext<double>(1, 1);
  return true;
}();

template <class T>
class MathExt : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(MathExt, Types);

TYPED_TEST(MathExt, Expm1SpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  using xact::math::expm1;
  EXPECT_EQ(expm1(T(0)), T(0));
  EXPECT_TRUE(std::signbit(expm1(T(-0.0))));
  EXPECT_EQ(expm1(L::infinity()), L::infinity());
  EXPECT_EQ(expm1(-L::infinity()), T(-1));
  EXPECT_TRUE(std::isnan(expm1(L::quiet_NaN())));
  EXPECT_EQ(expm1(L::max()), L::infinity());
  EXPECT_EQ(expm1(L::lowest()), T(-1));
  EXPECT_EQ(expm1(L::denorm_min()), L::denorm_min());
  EXPECT_EQ(expm1(-L::denorm_min()), -L::denorm_min());
  // Around the overflow threshold and the clamps.
  const T ln_max = std::log(L::max());
  EXPECT_LT(expm1(std::nextafter(ln_max, T(0))), L::infinity());
  EXPECT_EQ(expm1(ln_max * T(1.0001)), L::infinity());
  using R = xt::wide_t<T>;
  for (T x : {T(-1e-7), T(1e-7), T(-0.3), T(0.35), T(-0.7), T(0.7), T(-30), T(-42), T(-80), T(-100),
              T(20), T(88), T(700)}) {
    EXPECT_LE(xt::ulp_distance(expm1(x), static_cast<T>(std::expm1((R)x))), 1.0) << x;
  }
}

TYPED_TEST(MathExt, Log1pSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  using xact::math::log1p;
  EXPECT_EQ(log1p(T(0)), T(0));
  EXPECT_TRUE(std::signbit(log1p(T(-0.0))));
  EXPECT_EQ(log1p(L::infinity()), L::infinity());
  EXPECT_EQ(log1p(T(-1)), -L::infinity());
  EXPECT_TRUE(std::isnan(log1p(T(-1.5))));
  EXPECT_TRUE(std::isnan(log1p(-L::infinity())));
  EXPECT_TRUE(std::isnan(log1p(L::quiet_NaN())));
  EXPECT_EQ(log1p(L::denorm_min()), L::denorm_min());
  EXPECT_EQ(log1p(-L::denorm_min()), -L::denorm_min());
  using R = xt::wide_t<T>;
  for (T x : {L::max(), T(1e30), std::nextafter(T(-1), T(0)), T(-0.5), T(0.4142), T(1), T(1e-6),
              T(-1e-6), T(3e7)}) {
    EXPECT_LE(xt::ulp_distance(log1p(x), static_cast<T>(std::log1p((R)x))), 1.0) << x;
  }
}

TYPED_TEST(MathExt, Drivers) {
  xt::check_conformance<TypeParam>(expm1_op{});
  xt::check_conformance<TypeParam>(log1p_op{});
}

}  // namespace
