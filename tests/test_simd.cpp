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

namespace {

// fma and fnma round once where XACT_HAS_FMA says so, for the scalar and every lane alike: the
// residual of a product is exact (two_prod), not 0. xsimd 8.1's AVX-512 batches have no fma
// kernel (its generic fallback rounds the product) and this failed there before simd.hpp called
// the intrinsics; without an fma both round twice, the scalar like the batch.
TYPED_TEST(Simd, FmaRoundsAsTheScalarDoes) {
  using T = TypeParam;
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  // a = b = 1 + h, h = 2^-(digits/2 + 1): a b = 1 + 2h + h^2 exactly, rounded to 1 + 2h (h^2 is
  // below half an ulp of 1), so the residual is h^2.
  const T h = std::ldexp(T(1), -(std::numeric_limits<T>::digits / 2 + 1));
  const T a = T(1) + h, b = a, p = a * b, want = h * h;
  ASSERT_NE(want, T(0));
  alignas(64) T out[W];
  xact::simd::fma(B(a), B(b), B(-p)).store_aligned(out);
  const T fma_scalar = xact::simd::fma(a, b, -p);
  xact::simd::fnma(B(a), B(b), B(p)).store_aligned(out);
  const T fnma_lane = out[0];
  xact::simd::fma(B(a), B(b), B(-p)).store_aligned(out);
  ASSERT_EQ(p, T(1) + 2 * h);
  for (std::size_t i = 0; i < W; ++i) EXPECT_TRUE(xt::same_bits(out[i], fma_scalar)) << i;
  EXPECT_TRUE(xt::same_bits(fnma_lane, xact::simd::fnma(a, b, p)));
  T e;
  const T hi = xact::simd::two_prod(a, b, e);
  EXPECT_EQ(hi, p);
  EXPECT_EQ(e, want);  // two_prod is exact with or without an fma
  if (XACT_HAS_FMA) {
    EXPECT_EQ(out[0], want);
    EXPECT_EQ(fnma_lane, -want);
  } else {
    EXPECT_EQ(out[0], T(0));
  }
  B eb;
  const B hb = xact::simd::two_prod(B(a), B(b), eb);
  eb.store_aligned(out);
  EXPECT_EQ(hb.get(0), p);
  for (std::size_t i = 0; i < W; ++i) EXPECT_EQ(out[i], want) << i;
}

// mul_fma(a, b) is a * b bit for bit (it is fma(a, b, -0) where there is a hardware fma): zeros
// of both signs (a +0 addend would turn -0 into +0), underflow to +-0 and into the subnormals,
// subnormal factors, overflow, inf * 0 and NaN; the scalar and every lane of a batch and of a
// wide.
TYPED_TEST(Simd, MulFmaIsTheProduct) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using B = xsimd::batch<T>;
  using L = std::numeric_limits<T>;
  constexpr std::size_t W = B::size;
  const T vals[] = {T(0),
                    T(-0.0),
                    T(1),
                    T(-3),
                    T(0.25),
                    L::min(),
                    -L::min(),
                    L::denorm_min(),
                    -T(3) * L::denorm_min(),
                    std::sqrt(L::min()),
                    -std::sqrt(L::min()),
                    L::max(),
                    -L::max(),
                    L::infinity(),
                    -L::infinity(),
                    L::quiet_NaN(),
                    T(1e-3),
                    T(0.7)};
  int underflows = 0;
  for (T a : vals) {
    for (T b : vals) {
      const T want = a * b;
      if (want == T(0) && a != T(0) && b != T(0)) ++underflows;
      EXPECT_TRUE(xt::same_bits(xact::simd::mul_fma(a, b), want)) << a << " " << b;
      alignas(64) T av[W], out[W];
      for (std::size_t i = 0; i < W; ++i) av[i] = (i % 2) ? b : a;
      const B va = B::load_aligned(av);
      xact::simd::wide<B, 2> wa, wb;
      wa.v[0] = wa.v[1] = va;
      wb.v[0] = wb.v[1] = B(b);
      const auto wr = xact::simd::mul_fma(wa, wb);
      for (std::size_t u = 0; u < 2; ++u) {
        wr.v[u].store_aligned(out);
        for (std::size_t i = 0; i < W; ++i) EXPECT_TRUE(xt::same_bits(out[i], av[i] * b)) << i;
      }
    }
  }
  EXPECT_GT(underflows, 0);  // the list reaches products that round to +-0
}

}  // namespace
