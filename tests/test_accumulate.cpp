// The compensated accumulator: accurate long sums, infinities kept.
#include "support.hpp"

namespace {

TEST(Accumulate, MillionTermsFloatSumIsAccurate) {
  using B = xsimd::batch<float>;
  xact::compensated_sum<B> acc;
  long double exact = 0;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  alignas(64) float v[B::size];
  for (int i = 0; i < (1 << 20) / int(B::size); ++i) {
    for (auto& t : v) {
      t = u(rng) * (i % 3 == 0 ? 1e4f : 1e-3f);
      exact += t;
    }
    acc.add(B::load_aligned(v));
  }
  const float got = xact::reduce(acc);
  EXPECT_LE(xt::ulp_distance(got, static_cast<float>(exact)), 1.0) << got << " " << (double)exact;
}

TEST(Accumulate, InfiniteTermGivesInfinity) {
  XT_SKIP_IF_FAST_MATH();
  xact::compensated_sum<double> acc;
  acc.add(1.0);
  acc.add(std::numeric_limits<double>::infinity());
  acc.add(2.0);
  EXPECT_EQ(acc.value(), std::numeric_limits<double>::infinity());
  using B = xsimd::batch<float>;
  xact::compensated_sum<B> b;
  b.add(B(1.f));
  b.add(B(-std::numeric_limits<float>::infinity()));
  EXPECT_EQ(xact::reduce(b), -std::numeric_limits<float>::infinity());
  xact::compensated_sum<double> both;
  both.add(std::numeric_limits<double>::infinity());
  both.add(-std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(both.value()));
}

}  // namespace
