// The shared math core: each function's accuracy over the whole range, its special values, and
// the scalar call bit-identical to the batch lanes.
#include <xact/core/math.hpp>

#include "reference/reference.hpp"
#include "support.hpp"

namespace {

struct exp_op {
  template <class V>
  V forward(const V& x) const noexcept {
    return xact::math::exp(x);
  }
};

const bool registered = [] {
  xt::Register<float> f{xt::forward_case<float>("math::exp", exp_op{}, 1, ref::exp<double>)};
  xt::Register<double> d{xt::forward_case<double>("math::exp", exp_op{}, 1, ref::exp<long double>)};
  return true;
}();

template <class T>
class MathExp : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(MathExp, Types);

TYPED_TEST(MathExp, SpecialValuesAndThresholds) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  using xact::math::exp;
  EXPECT_EQ(exp(T(0)), T(1));
  EXPECT_EQ(exp(T(-0.0)), T(1));
  EXPECT_EQ(exp(L::infinity()), L::infinity());
  EXPECT_EQ(exp(-L::infinity()), T(0));
  EXPECT_TRUE(std::isnan(exp(L::quiet_NaN())));
  EXPECT_EQ(exp(L::max()), L::infinity());
  EXPECT_EQ(exp(L::lowest()), T(0));
  // Around the overflow threshold ln(max) and the underflow threshold ln(denorm_min / 2).
  const T ln_max = std::log(L::max());
  EXPECT_LT(exp(std::nextafter(ln_max, T(0))), L::infinity());
  EXPECT_EQ(exp(std::nextafter(ln_max, L::infinity()) * T(1.0001)), L::infinity());
  const T ln_tiny = std::log(L::denorm_min());
  EXPECT_EQ(exp(ln_tiny), L::denorm_min());
  EXPECT_EQ(exp(ln_tiny - T(1)), T(0));
  for (T x : {T(-1), T(-0.5), T(1e-7), T(10), T(-80), T(-87.5), T(-100), T(-700)}) {
    EXPECT_LE(xt::ulp_distance(exp(x), static_cast<T>(std::exp((xt::wide_t<T>)x))), 1.0) << x;
  }
}

TYPED_TEST(MathExp, Drivers) { xt::check_conformance<TypeParam>(exp_op{}); }

}  // namespace
