// The simd glue: the helpers behave the same for a scalar and for every lane of a batch.
#include "support.hpp"

namespace {

template <class T>
class Simd : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Simd, Types);

TYPED_TEST(Simd, IsnanMinMaxSelectAgreeWithScalar) {
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
