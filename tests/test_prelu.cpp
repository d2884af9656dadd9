#include <xact/functions/prelu.hpp>

#include "reference/prelu.hpp"
#include "support.hpp"

namespace {

template <class T>
void register_prelu(double alpha) {
  using R = xt::wide_t<T>;
  const xact::prelu op{alpha};
  const T a = static_cast<T>(alpha);
  // The references round x * a and dy * a once (ref::mul_rounded), from the exact product.
  xt::Register<T> f{xt::forward_case<T>("prelu", op, 0, [a](R x) {
    return std::isnan(x) ? x : (x > 0 ? x : R(ref::mul_rounded(static_cast<T>(x), a)));
  })};
  auto b = xt::backward_x_case<T>("prelu", op, 0, [a](R x) { return ref::prelu_grad(x, R(a)); });
  b.ref = [a](R x, R dy) {
    return std::isnan(x) ? x : (x > 0 ? dy : R(ref::mul_rounded(static_cast<T>(dy), a)));
  };
  xt::Register<T> bx{b};
}

// Exact: forward and dx are one rounded product each (alpha inexact, so the products round).
const bool registered = [] {
  register_prelu<float>(0.3);
  register_prelu<double>(0.3);
  return true;
}();

template <class T>
class Prelu : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Prelu, Types);

TYPED_TEST(Prelu, SpecialValuesAndAlphas) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const T inf = L::infinity(), nan = L::quiet_NaN();
  using P = xact::prelu;
  EXPECT_EQ(P::forward(T(2), T(0.25)), T(2));
  EXPECT_EQ(P::forward(T(-2), T(0.25)), T(-0.5));
  EXPECT_TRUE(std::signbit(P::forward(T(-0.0), T(0.25))));  // -0 is on the alpha branch
  EXPECT_FALSE(std::signbit(P::forward(T(0), T(0.25))));
  EXPECT_TRUE(std::isnan(P::forward(nan, T(0.25))));
  EXPECT_TRUE(std::isnan(P::forward(-nan, T(0.25))));
  EXPECT_EQ(P::forward(inf, T(0.25)), inf);
  EXPECT_EQ(P::forward(-inf, T(0.25)), -inf);
  // alpha = 0: ReLU below 0 except the IEEE products.
  EXPECT_EQ(P::forward(T(-3), T(0)), T(0));
  EXPECT_TRUE(std::signbit(P::forward(T(-3), T(0))));  // 0 * -3 = -0
  EXPECT_TRUE(std::isnan(P::forward(-inf, T(0))));     // 0 * -inf
  // alpha < 0 flips the sign, alpha > 1 amplifies.
  EXPECT_EQ(P::forward(T(-3), T(-0.5)), T(1.5));
  EXPECT_EQ(P::forward(T(-3), T(2)), T(-6));
  // alpha non-finite: the formula's products.
  EXPECT_EQ(P::forward(T(-1), inf), -inf);
  EXPECT_TRUE(std::isnan(P::forward(T(0), inf)));
  EXPECT_TRUE(std::isnan(P::forward(T(-1), nan)));
  EXPECT_EQ(P::forward(T(1), nan), T(1));
  EXPECT_EQ(P::forward(L::max(), nan), L::max());
  // No overflow where the result is finite; overflow where alpha * x is not.
  EXPECT_EQ(P::forward(L::lowest(), T(0.5)), L::lowest() / 2);
  EXPECT_EQ(P::forward(L::lowest(), T(2)), -inf);
  // the elementwise functor
  EXPECT_EQ(xact::prelu{}(T(-4)), T(-1));  // default alpha 0.25
  EXPECT_EQ(xact::prelu{0.5}(T(-4)), T(-2));
}

TYPED_TEST(Prelu, BackwardSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const T inf = L::infinity(), nan = L::quiet_NaN();
  using P = xact::prelu;
  EXPECT_EQ(P::backward_from_x(T(2), T(0.25), T(3)), T(3));
  EXPECT_EQ(P::backward_from_x(T(-2), T(0.25), T(3)), T(0.75));
  EXPECT_EQ(P::backward_from_x(T(0), T(0.25), T(3)), T(0.75));  // slope alpha at the kink
  EXPECT_EQ(P::backward_from_x(T(-0.0), T(0.25), T(3)), T(0.75));
  EXPECT_TRUE(std::isnan(P::backward_from_x(nan, T(0.25), T(3))));
  EXPECT_TRUE(std::isnan(P::backward_from_x(T(1), T(0.25), nan)));
  EXPECT_EQ(P::backward_from_x(-inf, T(0.25), T(4)), T(1));
  EXPECT_EQ(P::backward_from_x(T(-1), T(-2), T(4)), T(-8));
  EXPECT_TRUE(std::isnan(P::backward_from_x(T(-1), nan, T(4))));
  EXPECT_EQ(P::backward_from_x(T(1), nan, T(4)), T(4));
  EXPECT_EQ(P::alpha_term(T(-2), T(3)), T(-6));
  EXPECT_EQ(P::alpha_term(T(2), T(3)), T(0));
  EXPECT_EQ(P::alpha_term(T(-0.0), T(3)), T(0));
  EXPECT_TRUE(std::isnan(P::alpha_term(nan, T(3))));
  EXPECT_TRUE(std::isnan(P::alpha_term(T(-1), nan)));
  EXPECT_EQ(P::alpha_term(T(1), nan), T(0));  // x > 0 does not touch dalpha
}

TYPED_TEST(Prelu, ElementwiseDrivers) {
  xt::check_conformance<TypeParam>(xact::prelu{0.3});
  xt::check_conformance<TypeParam>(xact::prelu{-1.7});
}

// Every shape class of the channelwise driver, both layouts: each element bit-identical to the
// scalar math, the dalpha sums within a few ulp of the long double sums.
template <class T>
void check_shape(std::size_t N, std::size_t C, std::size_t inner, xact::layout lay) {
  const bool last = lay == xact::layout::channels_last;
  const std::size_t n = N * C * inner;
  std::vector<T> x = xt::conformance_inputs<T>(n, 7 + n), dy = xt::conformance_inputs<T>(n, 9);
  for (auto& v : x)
    if (!std::isfinite(v) || std::fabs(v) > T(1e3))
      v = T(-1.5);  // keep the sums finite; specials are tested elsewhere
  for (auto& v : dy)
    if (!std::isfinite(v) || std::fabs(v) > T(1e3)) v = T(0.5);
  std::vector<T> alpha(C);
  for (std::size_t c = 0; c < C; ++c) alpha[c] = T(0.1) * T(c % 17) - T(0.45);
  const xact::channel_shape s{N, C, inner, lay};
  std::vector<T> y(n + 2, T(-7)), dx(n + 2, T(-7)), da(C + 2, T(-7));
  xact::prelu_forward(s, alpha.data(), x.data(), y.data() + 1);
  xact::prelu_backward(s, alpha.data(), x.data(), dy.data(), dx.data() + 1, da.data() + 1);
  const std::string where = "N=" + std::to_string(N) + " C=" + std::to_string(C) +
                            " inner=" + std::to_string(inner) + (last ? " last" : " first");
  EXPECT_EQ(y[0], T(-7)) << where;
  EXPECT_EQ(y[n + 1], T(-7)) << where;
  EXPECT_EQ(dx[n + 1], T(-7)) << where;
  EXPECT_EQ(da[C + 1], T(-7)) << where;
  for (std::size_t e = 0; e < n; ++e) {
    const T a = alpha[ref::channel_of(e, C, inner, last)];
    ASSERT_TRUE(xt::same_bits(y[e + 1], xact::prelu::forward(x[e], a))) << where << " e=" << e;
    ASSERT_TRUE(xt::same_bits(dx[e + 1], xact::prelu::backward_from_x(x[e], a, dy[e])))
        << where << " e=" << e;
  }
  const auto want = ref::prelu_dalpha(x, dy, C, inner, last);
  for (std::size_t c = 0; c < C; ++c) {
    // The products are rounded before summing: allow their rounding plus an ulp of the sum.
    long double mag = 0;
    for (std::size_t e = 0; e < n; ++e)
      if (ref::channel_of(e, C, inner, last) == c && !(x[e] > 0))
        mag += std::fabs((long double)dy[e] * x[e]);
    const long double eps = std::numeric_limits<T>::epsilon();
    // Products below the normal range round to the subnormal spacing, absolutely.
    const long double tiny = (long double)N * inner * std::numeric_limits<T>::denorm_min();
    EXPECT_LE(std::fabs(da[c + 1] - want[c]), eps * std::fabs(want[c]) + eps * mag / 2 + tiny)
        << where << " c=" << c;
  }
  // In place: y over x, dx over dy.
  std::vector<T> xi = x, dyi = dy, dai(C);
  xact::prelu_forward(s, alpha.data(), xi.data(), xi.data());
  xact::prelu_backward(s, alpha.data(), x.data(), dyi.data(), dyi.data(), dai.data());
  for (std::size_t e = 0; e < n; ++e) {
    ASSERT_TRUE(xt::same_bits(xi[e], y[e + 1])) << where << " in place e=" << e;
    ASSERT_TRUE(xt::same_bits(dyi[e], dx[e + 1])) << where << " in place e=" << e;
  }
  for (std::size_t c = 0; c < C; ++c) EXPECT_TRUE(xt::same_bits(dai[c], da[c + 1])) << where;
}

TYPED_TEST(Prelu, ChannelShapes) {
  using T = TypeParam;
  constexpr std::size_t W = xsimd::batch<T>::size;
  const std::size_t Ns[] = {1, 2, 3, W + 1};
  const std::size_t Cs[] = {1, 2, 3, W - 1, W, W + 1, 17};
  const std::size_t inners[] = {1, 2, 3, W, 4 * W - 1, 4 * W, 4 * W + 3, 100};
  for (auto lay : {xact::layout::channels_first, xact::layout::channels_last})
    for (std::size_t N : Ns)
      for (std::size_t C : Cs)
        for (std::size_t inner : inners) check_shape<T>(N, C, inner, lay);
  // Periods longer than the stack tile: blocks inside one period.
  check_shape<T>(3, 700, 1, xact::layout::channels_last);
  check_shape<T>(3, 701, 1, xact::layout::channels_first);
  check_shape<T>(2, 300, 3, xact::layout::channels_first);
  check_shape<T>(2, 251, 5, xact::layout::channels_first);
  check_shape<T>(5, 3, 33, xact::layout::channels_last);
  // Empty tensors: dalpha is 0.
  std::vector<T> alpha(4, T(0.1)), da(4, T(9));
  xact::prelu_backward(xact::channel_shape{0, 4, 5}, alpha.data(), (const T*)nullptr,
                       (const T*)nullptr, (T*)nullptr, da.data());
  for (T v : da) EXPECT_EQ(v, T(0));
}

TYPED_TEST(Prelu, LayoutIsTheCallersChoice) {
  using T = TypeParam;
  // The same numbers as [N, C, inner] and as [N, inner, C] with C == inner: the results differ,
  // as they should, and each matches the transposed other.
  const std::size_t N = 2, C = 5, inner = 5;
  std::vector<T> x(N * C * inner), xt_(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = T(int(i % 11) - 7);
  for (std::size_t b = 0; b < N; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < inner; ++i)
        xt_[(b * inner + i) * C + c] = x[(b * C + c) * inner + i];
  std::vector<T> alpha = {T(0.1), T(0.2), T(0.3), T(0.4), T(0.5)};
  std::vector<T> y1(x.size()), y2(x.size());
  xact::prelu_forward(xact::channel_shape{N, C, inner, xact::layout::channels_first}, alpha.data(),
                      x.data(), y1.data());
  xact::prelu_forward(xact::channel_shape{N, C, inner, xact::layout::channels_last}, alpha.data(),
                      xt_.data(), y2.data());
  for (std::size_t b = 0; b < N; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < inner; ++i)
        EXPECT_EQ(y1[(b * C + c) * inner + i], y2[(b * inner + i) * C + c]);
}

TYPED_TEST(Prelu, MillionElementDalphaIsAccurate) {
  using T = TypeParam;
  const std::size_t n = (1u << 20) + 37;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<T> ux(T(-2), T(0.5)), ud(T(0.1), T(1.3));
  std::vector<T> x(n), dy(n), dx(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = ux(rng);
    dy[i] = ud(rng);
  }
  // Same-signed terms: a plain float sum would be off by thousands of ulp here.
  const T da = xact::prelu_backward(T(0.25), x.data(), dy.data(), dx.data(), n);
  const long double want = ref::prelu_dalpha(x, dy, 1, n, false)[0];
  const double err = xt::ulp_distance(da, static_cast<T>(want));
  std::printf("[prelu] dalpha over %zu elements: %.0f ulp from the long double sum\n", n, err);
  EXPECT_LE(err, 1.0);
  // Mixed signs (cancellation) per channel, channels_last.
  const std::size_t C = 3;
  for (std::size_t i = 0; i < n; ++i) dy[i] = (i % 7 < 3 ? T(-1) : T(1)) * ud(rng);
  std::vector<T> alpha(C, T(0.2)), dac(C);
  const std::size_t rows = n / C;
  xact::prelu_backward(xact::channel_shape{rows, C, 1, xact::layout::channels_last}, alpha.data(),
                       x.data(), dy.data(), dx.data(), dac.data());
  std::vector<T> xs(x.begin(), x.begin() + rows * C), dys(dy.begin(), dy.begin() + rows * C);
  const auto wc = ref::prelu_dalpha(xs, dys, C, 1, true);
  for (std::size_t c = 0; c < C; ++c) {
    long double mag = 0;
    for (std::size_t r = 0; r < rows; ++r)
      if (!(xs[r * C + c] > 0)) mag += std::fabs((long double)dys[r * C + c] * xs[r * C + c]);
    const long double eps = std::numeric_limits<T>::epsilon();
    // The products' own roundings (random signs: ~sqrt(n) eps |term|) plus an ulp of the sum.
    EXPECT_LE(std::fabs(dac[c] - wc[c]), eps * std::fabs(wc[c]) + eps * mag / 200) << c;
  }
}

TYPED_TEST(Prelu, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  const T a = T(0.3);
  for (long double x = -9.95L; x <= 10; x += 0.1L) {
    const long double num =
        xt::central_difference([&](long double v) { return ref::prelu<long double>(v, a); }, x);
    const long double got = xact::prelu::backward_from_x(static_cast<T>(x), a, T(1));
    EXPECT_NEAR(got, num, 1e-7L * std::fabs(num) + 1e-9L) << x;
  }
  // dalpha: d/dalpha of sum dy * y, alpha moved in long double.
  const std::size_t N = 3, C = 4, inner = 7;
  std::vector<T> x(N * C * inner), dy(x.size()), dx(x.size()),
      alpha = {T(0.1), T(-0.2), T(2), T(0)};
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = T((int(i * 37 % 23) - 11)) / T(4);  // exact products: the sums are exact
    dy[i] = T((int(i * 13 % 9) - 4)) / T(8);
  }
  std::vector<T> da(C);
  const xact::channel_shape s{N, C, inner, xact::layout::channels_first};
  xact::prelu_backward(s, alpha.data(), x.data(), dy.data(), dx.data(), da.data());
  for (std::size_t c = 0; c < C; ++c) {
    auto loss = [&](long double ac) {
      long double l = 0;
      for (std::size_t e = 0; e < x.size(); ++e) {
        const std::size_t ch = ref::channel_of(e, C, inner, false);
        l += dy[e] * ref::prelu<long double>(x[e], ch == c ? ac : (long double)alpha[ch]);
      }
      return l;
    };
    const long double num = xt::central_difference(loss, alpha[c]);
    EXPECT_NEAR(da[c], num, 1e-6L * std::fabs(num) + 1e-9L) << c;
  }
}

TYPED_TEST(Prelu, ArgumentChecks) {
  using T = TypeParam;
  std::vector<T> x(10, T(1)), y(10), alpha(2, T(0.1)), da(2);
  const xact::channel_shape s{1, 2, 5};
  EXPECT_THROW(xact::prelu_forward(s, (const T*)nullptr, x.data(), y.data()),
               std::invalid_argument);
  EXPECT_THROW(xact::prelu_forward(s, alpha.data(), (const T*)nullptr, y.data()),
               std::invalid_argument);
  EXPECT_THROW(xact::prelu_forward(s, alpha.data(), x.data(), (T*)nullptr), std::invalid_argument);
  EXPECT_THROW(xact::prelu_backward(s, alpha.data(), x.data(), y.data(), y.data(), (T*)nullptr),
               std::invalid_argument);
  // partial overlap of output and input
  EXPECT_THROW(
      xact::prelu_forward(xact::channel_shape{1, 2, 4}, alpha.data(), x.data(), x.data() + 1),
      std::invalid_argument);
}

}  // namespace
