// The simd glue: the helpers behave the same for a scalar and for every lane of a batch.
#include "support.hpp"

namespace {

template <class T>
class Simd : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Simd, Types);

TYPED_TEST(Simd, IsnanMinMaxSelectAgreeWithScalar) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using B = xsimd::batch<T>;
  using L = std::numeric_limits<T>;
  const T vals[] = {T(0), T(-0.0), T(1), -L::infinity(), L::quiet_NaN(), L::denorm_min(), T(-3)};
  constexpr std::size_t W = B::size;
  for (T a : vals) {
    for (T b : vals) {
      alignas(64) T av[W], bv[W], out[W];
      for (std::size_t i = 0; i < W; ++i) {
        av[i] = a;
        bv[i] = b;
      }
      const B va = B::load_aligned(av), vb = B::load_aligned(bv);
      const auto m = xact::simd::isnan(va);
      EXPECT_EQ(xsimd::any(m), std::isnan(a)) << a;
      xact::simd::min(va, vb).store_aligned(out);
      EXPECT_TRUE(xt::same_bits(out[0], xact::simd::min(a, b))) << a << " " << b;
      xact::simd::max(va, vb).store_aligned(out);
      EXPECT_TRUE(xt::same_bits(out[0], xact::simd::max(a, b))) << a << " " << b;
      xact::simd::select(va < vb, va, vb).store_aligned(out);
      EXPECT_TRUE(xt::same_bits(out[0], xact::simd::select(a < b, a, b))) << a << " " << b;
    }
  }
}

}  // namespace

namespace {

// neg_abs is -|a| bit for bit (NaN included: the sign bit set); select_sign picks by the sign
// of s wherever s is nonzero and not NaN, for the scalar and every lane alike.
TYPED_TEST(Simd, NegAbsAndSelectSign) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using B = xsimd::batch<T>;
  using L = std::numeric_limits<T>;
  constexpr std::size_t W = B::size;
  const T vals[] = {T(0),
                    T(-0.0),
                    T(1),
                    T(-3),
                    L::infinity(),
                    -L::infinity(),
                    L::quiet_NaN(),
                    -L::quiet_NaN(),
                    L::denorm_min(),
                    -L::denorm_min(),
                    L::max(),
                    L::lowest()};
  for (T s : vals) {
    alignas(64) T sv[W], out[W];
    for (std::size_t i = 0; i < W; ++i) sv[i] = s;
    const B vs = B::load_aligned(sv);
    xact::simd::neg_abs(vs).store_aligned(out);
    EXPECT_TRUE(xt::same_bits(out[0], xact::simd::neg_abs(s))) << s;
    EXPECT_TRUE(std::signbit(out[0])) << s;
    if (!std::isnan(s)) {
      EXPECT_EQ(out[0], -std::fabs(s)) << s;
    }
    xact::simd::select_sign(vs, B(T(-7)), B(T(7))).store_aligned(out);
    const T scalar = xact::simd::select_sign(s, T(-7), T(7));
    if (s != T(0) && !std::isnan(s)) {
      EXPECT_EQ(out[0], s < 0 ? T(-7) : T(7)) << s;
      EXPECT_EQ(scalar, out[0]) << s;
    } else {
      EXPECT_TRUE(out[0] == T(-7) || out[0] == T(7)) << s;  // unspecified, but one of the two
    }
  }
}

}  // namespace
