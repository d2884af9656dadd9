#include <xact/functions/dice.hpp>

#include "reference/dice.hpp"
#include "support.hpp"

namespace {

using LD = long double;

// Fixed statistics (inference, one feature): an elementwise function the accuracy walks cover.
// mean 0.5, rstd 0.75, alpha 0.25 are exact in float.
template <class T>
void register_dice() {
  using R = xt::wide_t<T>;
  const xact::dice_fixed op{0.5, 0.75, 0.25};
  auto fwd = [](R x) {
    if (std::isinf(x)) return x > 0 ? x : R(0.25) * x;
    const R p = R(1) / (R(1) + std::exp(-(x - R(0.5)) * R(0.75)));
    return p * x + (R(1) - p) * R(0.25) * x;
  };
  auto grad = [](R x) {
    if (std::isinf(x)) return x > 0 ? R(1) : R(0.25);
    const R z = (x - R(0.5)) * R(0.75);
    const R e = std::exp(-std::fabs(z));
    const R p = z >= 0 ? R(1) / (R(1) + e) : e / (R(1) + e);
    const R pq = e / ((R(1) + e) * (R(1) + e));
    return R(0.25) + R(0.75) * p + x * R(0.75) * pq * R(0.75);
  };
  xt::Register<T> f{xt::forward_case<T>("dice(fixed)", op, 2, fwd)};
  // Backward: 3 ulp on the strided walk; the walk over all 2^32 floats finds 4 (x = -0.990).
  xt::Register<T> b{xt::backward_x_case<T>("dice(fixed)", op, 4, grad)};
}

const bool registered = [] {
  register_dice<float>();
  register_dice<double>();
  return true;
}();

template <class T>
class Dice : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Dice, Types);

template <class T>
std::vector<T> random_tensor(std::size_t n, std::uint64_t seed, T offset = T(0), T scale = T(1)) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 1);
  std::vector<T> v(n);
  for (auto& e : v) e = static_cast<T>(offset + scale * g(rng));
  return v;
}

template <class T>
std::vector<LD> wide(const std::vector<T>& v) {
  return std::vector<LD>(v.begin(), v.end());
}

template <class T>
ref::dice_setup setup_of(const xact::dice<T>& d, const xact::channel_shape& s, bool training) {
  ref::dice_setup r;
  r.N = s.batch;
  r.C = s.channels;
  r.inner = s.inner;
  r.last = s.order == xact::layout::channels_last;
  r.eps = d.eps();
  r.affine = d.affine();
  r.training = training;
  r.alpha = wide(d.alpha);
  r.gamma = wide(d.gamma);
  r.beta = wide(d.beta);
  r.mean = wide(d.running_mean);
  r.var = wide(d.running_var);
  return r;
}

template <class T>
void set_params(xact::dice<T>& d, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-0.5, 1.2), g(0.5, 2), b(-1, 1);
  for (std::size_t c = 0; c < d.features(); ++c) {
    d.alpha[c] = T(u(rng));
    d.gamma[c] = T(g(rng));
    d.beta[c] = T(b(rng));
    d.running_mean[c] = T(b(rng));
    d.running_var[c] = T(g(rng));
  }
}

// Forward error in units of eps |x| (|alpha| + |1 - alpha|): the scale of y's terms.
template <class T>
double forward_error(const xact::channel_shape& s, bool affine, bool training, T offset,
                     std::uint64_t seed) {
  xact::dice<T> d(s.channels, xact::dice_options<T>{T(1e-8), T(0.1), affine, T(0)});
  set_params(d, seed);
  const ref::dice_setup rs = setup_of(d, s, training);
  const std::vector<T> x = random_tensor<T>(s.size(), seed + 1, offset, T(1.5));
  std::vector<T> y(x.size());
  d.forward(s, x.data(), y.data(),
            training ? xact::dice_mode::training : xact::dice_mode::inference);
  const std::vector<LD> want = ref::dice_forward(rs, wide(x));
  double worst = 0;
  for (std::size_t e = 0; e < x.size(); ++e) {
    const LD a = rs.alpha[rs.channel(e)];
    const LD scale =
        std::numeric_limits<T>::epsilon() * std::fabs((LD)x[e]) * (std::fabs(a) + std::fabs(1 - a));
    const double r = static_cast<double>(std::fabs(y[e] - want[e]) / scale);
    if (r > worst) worst = r;
  }
  return worst;
}

template <class T>
std::vector<xact::channel_shape> test_shapes() {
  constexpr std::size_t W = xsimd::batch<T>::size;
  using xact::layout;
  return {
      {7, 3, 1, layout::channels_last},           // [N, C]
      {7, 3, 1, layout::channels_first},          // [N, C] named the other way: same tensor
      {5, W, 1, layout::channels_last},           // C == W
      {4, 3, 6, layout::channels_last},           // [N, T, C]
      {3, 2, 4 * W + 3, layout::channels_first},  // [N, C, T], long runs with a tail
      {2, W + 1, 3, layout::channels_last},      {1, 4, 5, layout::channels_last},  // N = 1
      {6, 1, 1, layout::channels_last},                                             // C = 1
      {1, 3, 1, layout::channels_last},       // one value per feature
      {2, 5, 2 * W, layout::channels_first},  // runs of whole batches
  };
}

TYPED_TEST(Dice, ForwardAccuracy) {
  using T = TypeParam;
  double worst = 0;
  for (const auto& s : test_shapes<T>())
    for (bool affine : {false, true})
      for (bool training : {true, false})
        for (T offset : {T(0), T(1000)}) {
          const double e = forward_error<T>(s, affine, training, offset, 11);
          if (e > 2)
            std::printf("N=%zu C=%zu inner=%zu last=%d affine=%d training=%d offset=%g: %.2f\n",
                        s.batch, s.channels, s.inner, int(s.order == xact::layout::channels_last),
                        int(affine), int(training), double(offset), e);
          worst = std::max(worst, e);
        }
  std::printf("[dice] forward: max error %.2f eps |x| (|alpha| + |1 - alpha|)\n", worst);
  EXPECT_LE(worst, 2.0);
}

TYPED_TEST(Dice, StatisticsOfAMillionValues) {
  using T = TypeParam;
  // One feature, far from 0 (mean 1e4, std 1): E[x^2] - E[x]^2 would lose everything in float.
  const std::size_t n = (1u << 20) + 3;
  const xact::channel_shape s{n, 1, 1, xact::layout::channels_last};
  const std::vector<T> x = random_tensor<T>(n, 3, T(1e4), T(1));
  xact::dice<T> d(1);
  std::vector<T> y(n);
  d.forward(s, x.data(), y.data(), xact::dice_mode::training);
  ref::dice_setup rs = setup_of(d, s, true);
  std::vector<LD> mean, var;
  ref::dice_forward(rs, wide(x), &mean, &var);
  const LD got_var = 1 / ((LD)d.batch_rstd[0] * d.batch_rstd[0]) - rs.eps;
  const LD eps = std::numeric_limits<T>::epsilon();
  const double em = static_cast<double>(std::fabs(d.batch_mean[0] - mean[0]) / (eps * mean[0]));
  const double ev = static_cast<double>(std::fabs(got_var - var[0]) / (eps * var[0]));
  std::printf("[dice] 1M values: mean error %.2f eps, variance error %.2f eps (relative)\n", em,
              ev);
  EXPECT_LE(em, 1.0);
  EXPECT_LE(ev, 8.0);  // includes rstd's own two roundings, squared
}

TYPED_TEST(Dice, RunningStatistics) {
  using T = TypeParam;
  const xact::channel_shape s{6, 3, 4, xact::layout::channels_last};
  xact::dice<T> d(3);  // running mean 0, var 1, momentum 0.1
  const std::vector<T> x = random_tensor<T>(s.size(), 5, T(2), T(3));
  std::vector<T> y(x.size());
  d.forward(s, x.data(), y.data(), xact::dice_mode::training);
  std::vector<LD> mean, var;
  ref::dice_forward(setup_of(d, s, true), wide(x), &mean, &var);
  const LD n = s.per_channel(), tol = sizeof(T) == 4 ? 1e-6L : 1e-14L;
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(d.running_mean[c], 0.1L * mean[c], tol * (1 + std::fabs(mean[c])));
    // The unbiased batch variance goes into the running variance.
    const LD rv = 0.9L + 0.1L * var[c] * n / (n - 1);
    EXPECT_NEAR(d.running_var[c], rv, tol * rv);
  }
  // Inference uses them.
  std::vector<T> yi(x.size());
  d.forward(s, x.data(), yi.data(), xact::dice_mode::inference);
  const auto want = ref::dice_forward(setup_of(d, s, false), wide(x));
  for (std::size_t e = 0; e < x.size(); ++e)
    EXPECT_NEAR(yi[e], want[e], 8 * std::numeric_limits<T>::epsilon() * (1 + std::fabs(want[e])));
}

// Every gradient against central differences of the long double reference forward.
template <class T>
void check_gradients(const xact::channel_shape& s, bool affine, bool training) {
  xact::dice<T> d(s.channels, xact::dice_options<T>{T(1e-3), T(0.1), affine, T(0)});
  set_params(d, 21 + s.size());
  const std::vector<T> x = random_tensor<T>(s.size(), 22 + s.size(), T(0.3), T(1.2));
  const std::vector<T> dy = random_tensor<T>(s.size(), 23 + s.size());
  const auto mode = training ? xact::dice_mode::training : xact::dice_mode::inference;
  ref::dice_setup rs = setup_of(d, s, training);
  std::vector<T> y(x.size()), dx(x.size());
  d.forward(s, x.data(), y.data(), mode);
  d.backward(s, x.data(), dy.data(), dx.data(), mode);
  const std::vector<LD> xw = wide(x), dyw = wide(dy);
  const LD tol = sizeof(T) == 4 ? 3e-5L : 1e-9L;
  const std::string where = "N=" + std::to_string(s.batch) + " C=" + std::to_string(s.channels) +
                            " inner=" + std::to_string(s.inner) +
                            (s.order == xact::layout::channels_last ? " last" : " first") +
                            (affine ? " affine" : "") + (training ? " training" : " inference");
  for (std::size_t e = 0; e < x.size(); ++e) {
    auto loss = [&](LD v) {
      std::vector<LD> xp = xw;
      xp[e] = v;
      return ref::dice_loss(rs, xp, dyw);
    };
    const LD num = xt::central_difference(loss, xw[e]);
    ASSERT_NEAR(dx[e], num, tol * (1 + std::fabs(num))) << where << " dx e=" << e;
  }
  auto param_check = [&](std::vector<LD> ref::dice_setup::*member, const std::vector<T>& got,
                         const char* name) {
    for (std::size_t c = 0; c < s.channels; ++c) {
      auto loss = [&](LD v) {
        ref::dice_setup r2 = rs;
        (r2.*member)[c] = v;
        return ref::dice_loss(r2, xw, dyw);
      };
      const LD num = xt::central_difference(loss, (rs.*member)[c]);
      EXPECT_NEAR(got[c], num, tol * (1 + std::fabs(num)) * std::sqrt((LD)s.per_channel()))
          << where << " " << name << " c=" << c;
    }
  };
  param_check(&ref::dice_setup::alpha, d.grad_alpha, "dalpha");
  if (affine) {
    param_check(&ref::dice_setup::gamma, d.grad_gamma, "dgamma");
    param_check(&ref::dice_setup::beta, d.grad_beta, "dbeta");
  } else {
    for (std::size_t c = 0; c < s.channels; ++c) {
      EXPECT_EQ(d.grad_gamma[c], T(0));
      EXPECT_EQ(d.grad_beta[c], T(0));
    }
  }
}

TYPED_TEST(Dice, GradientsMatchCentralDifferences) {
  using T = TypeParam;
  for (const auto& s : test_shapes<T>())
    for (bool affine : {false, true})
      for (bool training : {true, false}) check_gradients<T>(s, affine, training);
}

TYPED_TEST(Dice, BatchOfOneAndConstantColumns) {
  using T = TypeParam;
  // One value per feature: var = 0 and p = 1/2 exactly: y = x (1 + alpha) / 2.
  xact::dice<T> d(3);
  d.alpha = {T(0), T(0.5), T(-1)};
  const std::vector<T> x = {T(3), T(-7), T(1e30)};
  std::vector<T> y(3), dx(3);
  const xact::channel_shape one{1, 3, 1, xact::layout::channels_last};
  d.forward(one, x.data(), y.data(), xact::dice_mode::training);
  EXPECT_EQ(y[0], T(1.5));
  EXPECT_EQ(y[1], T(-5.25));
  EXPECT_EQ(y[2], T(0));
  EXPECT_EQ(d.running_var, std::vector<T>(3, T(1)));  // left alone: n - 1 = 0
  EXPECT_NEAR(d.running_mean[0], T(0.3), T(1e-6));
  const std::vector<T> dy = {T(1), T(2), T(3)};
  d.backward(one, x.data(), dy.data(), dx.data(), xact::dice_mode::training);
  // With one sample, x - mean is identically 0: only the direct term remains.
  EXPECT_EQ(dx[0], T(0.5));
  EXPECT_EQ(dx[1], T(1.5));
  EXPECT_EQ(dx[2], T(0));
  // A constant feature column of many values: the same, all finite.
  const xact::channel_shape col{9, 3, 1, xact::layout::channels_last};
  std::vector<T> xc(27), yc(27), dyc(27, T(1)), dxc(27);
  for (std::size_t r = 0; r < 9; ++r) {
    xc[r * 3 + 0] = T(0.1);
    xc[r * 3 + 1] = T(-3.7);
    xc[r * 3 + 2] = T(r);  // not constant
  }
  d.forward(col, xc.data(), yc.data(), xact::dice_mode::training);
  d.backward(col, xc.data(), dyc.data(), dxc.data(), xact::dice_mode::training);
  EXPECT_EQ(d.batch_mean[0], T(0.1));
  EXPECT_EQ(d.batch_mean[1], T(-3.7));
  for (std::size_t r = 0; r < 9; ++r) {
    EXPECT_EQ(yc[r * 3 + 0], T(0.1) * T(0.5));
    EXPECT_EQ(yc[r * 3 + 1], T(-3.7) * T(0.75));
    // dx: the direct term, up to mean(gz)'s rounding times rstd = 1/sqrt(eps) = 1e4.
    const T tol = T(1e4) * std::numeric_limits<T>::epsilon();
    EXPECT_NEAR(dxc[r * 3 + 0], T(0.5), tol);
    EXPECT_NEAR(dxc[r * 3 + 1], T(0.75), tol);
    EXPECT_TRUE(std::isfinite(yc[r * 3 + 2]) && std::isfinite(dxc[r * 3 + 2]));
  }
}

TYPED_TEST(Dice, NaNStaysInItsFeature) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  xact::dice<T> d(2);
  std::vector<T> x = {T(1), T(2), std::numeric_limits<T>::quiet_NaN(), T(3), T(0.5), T(-1)};
  std::vector<T> y(6), dx(6), dy(6, T(1));
  const xact::channel_shape s{3, 2, 1, xact::layout::channels_last};
  d.forward(s, x.data(), y.data(), xact::dice_mode::training);
  d.backward(s, x.data(), dy.data(), dx.data(), xact::dice_mode::training);
  for (std::size_t r = 0; r < 3; ++r) {
    EXPECT_TRUE(std::isnan(y[2 * r])) << r;
    EXPECT_TRUE(std::isnan(dx[2 * r])) << r;
    EXPECT_TRUE(std::isfinite(y[2 * r + 1])) << r;
    EXPECT_TRUE(std::isfinite(dx[2 * r + 1])) << r;
  }
  EXPECT_TRUE(std::isnan(d.grad_alpha[0]));
  EXPECT_TRUE(std::isfinite(d.grad_alpha[1]));
  // Inference with fixed statistics (a fresh layer): NaN stays in its element.
  xact::dice<T> fresh(2);
  fresh.forward(s, x.data(), y.data(), xact::dice_mode::inference);
  EXPECT_TRUE(std::isnan(y[2]));
  EXPECT_TRUE(std::isfinite(y[0]) && std::isfinite(y[4]));
}

TYPED_TEST(Dice, FixedStatisticsSpecialValues) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using L = std::numeric_limits<T>;
  const xact::dice_fixed f{0.5, 0.75, 0.25};
  EXPECT_EQ(f(L::infinity()), L::infinity());
  EXPECT_EQ(f(-L::infinity()), -L::infinity());
  EXPECT_TRUE(std::isnan(f(L::quiet_NaN())));
  EXPECT_EQ(f(T(0)), T(0));
  EXPECT_EQ(f(L::max()), L::max());
  EXPECT_EQ(f(L::lowest()), L::lowest() * T(0.25));
  // The derivative stays finite where it is (no dy x overflow): 1 at +huge, alpha at -huge.
  EXPECT_EQ(f.backward_from_x(L::max(), T(1.5)), T(1.5));
  EXPECT_EQ(f.backward_from_x(L::infinity(), T(1.5)), T(1.5));  // found by the exhaustive walk
  EXPECT_EQ(f.backward_from_x(-L::infinity(), T(2)), T(0.5));
  EXPECT_EQ(f.backward_from_x(L::lowest(), T(2)), T(0.5));
  EXPECT_TRUE(std::isnan(f.backward_from_x(L::quiet_NaN(), T(1))));
  EXPECT_TRUE(std::isnan(f.backward_from_x(T(1), L::quiet_NaN())));
  // dy = +-inf at x = +-inf: dy f'(x) = dy or dy alpha, not the NaN of inf * 0 in the vanishing
  // x p q term (found by fuzzing); a finite x keeps dy f'(x) = +-inf.
  const T inf = L::infinity();
  EXPECT_EQ(f.backward_from_x(inf, inf), inf);
  EXPECT_EQ(f.backward_from_x(inf, -inf), -inf);
  EXPECT_EQ(f.backward_from_x(-inf, inf), inf);
  EXPECT_EQ(f.backward_from_x(-inf, -inf), -inf);
  EXPECT_EQ(f.backward_from_x(T(0.5), inf), inf);
}

TYPED_TEST(Dice, InferenceLayerMatchesElementwiseFunctor) {
  using T = TypeParam;
  xact::dice<T> d(4, xact::dice_options<T>{T(1e-5), T(0.1), true, T(0.1)});
  set_params(d, 77);
  const xact::channel_shape s{5, 4, 7, xact::layout::channels_first};
  const std::vector<T> x = random_tensor<T>(s.size(), 78), dy = random_tensor<T>(s.size(), 79);
  std::vector<T> y(x.size()), dx(x.size());
  d.forward(s, x.data(), y.data(), xact::dice_mode::inference);
  d.backward(s, x.data(), dy.data(), dx.data(), xact::dice_mode::inference);
  for (std::size_t e = 0; e < x.size(); ++e) {
    const std::size_t c = (e / 7) % 4;
    const T rstd = T(1) / std::sqrt(d.running_var[c] + d.eps());
    const xact::dice_fixed f{d.running_mean[c], rstd, d.alpha[c], d.gamma[c], d.beta[c], true};
    ASSERT_TRUE(xt::same_lane(y[e], f.forward(x[e]))) << e;
    const T g = f.backward_from_x(x[e], dy[e]);
    if (XT_FAST_MATH) {
      // -ffast-math reassociates each inlined copy on its own: the scalar call and a lane agree
      // to XT_FAST_MATH_LANE_ULP ulp of the terms dx sums (dy (alpha + (1 - alpha) p) and the
      // gate's dy x (1 - alpha) p q rstd, p q <= 1/4), not of dx where they cancel (4 ulp of dx
      // seen in double). Normal builds: bit for bit.
      const T a = d.alpha[c];
      const T mag = std::fabs(dy[e]) * (std::fabs(a) + std::fabs(T(1) - a)) *
                    (T(1) + std::fabs(x[e] * f.scale<T>()) / 4);
      int ex;
      std::frexp(mag, &ex);
      const T ulp = std::ldexp(T(1), ex - std::numeric_limits<T>::digits);
      ASSERT_LE(std::fabs(dx[e] - g), XT_FAST_MATH_LANE_ULP * ulp) << e;
    } else {
      ASSERT_TRUE(xt::same_bits(dx[e], g)) << e;
    }
  }
}

TYPED_TEST(Dice, ElementwiseDrivers) {
  xt::check_conformance<TypeParam>(xact::dice_fixed{0.5, 0.75, 0.25});
  xt::check_conformance<TypeParam>(xact::dice_fixed{-1, 3, 0.1, 1.5, -0.25, true});
}

TYPED_TEST(Dice, InPlace) {
  using T = TypeParam;
  const xact::channel_shape s{4, 3, 5, xact::layout::channels_last};
  xact::dice<T> a(3), b(3);
  const std::vector<T> x = random_tensor<T>(s.size(), 1), dy = random_tensor<T>(s.size(), 2);
  std::vector<T> y(x.size()), dx(x.size()), xi = x, dyi = dy;
  a.forward(s, x.data(), y.data(), xact::dice_mode::training);
  a.backward(s, x.data(), dy.data(), dx.data(), xact::dice_mode::training);
  b.forward(s, xi.data(), xi.data(), xact::dice_mode::training);
  b.backward(s, x.data(), dyi.data(), dyi.data(), xact::dice_mode::training);
  for (std::size_t e = 0; e < x.size(); ++e) {
    EXPECT_TRUE(xt::same_bits(xi[e], y[e]));
    EXPECT_TRUE(xt::same_bits(dyi[e], dx[e]));
  }
}

TYPED_TEST(Dice, ArgumentChecks) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  using O = xact::dice_options<T>;
  EXPECT_THROW(xact::dice<T>(0), std::invalid_argument);
  EXPECT_THROW(xact::dice<T>(2, O{T(0)}), std::invalid_argument);
  EXPECT_THROW(xact::dice<T>(2, O{T(-1)}), std::invalid_argument);
  EXPECT_THROW(xact::dice<T>(2, O{std::numeric_limits<T>::quiet_NaN()}), std::invalid_argument);
  EXPECT_THROW(xact::dice<T>(2, O{T(1e-8), T(1.5)}), std::invalid_argument);
  EXPECT_THROW(xact::dice<T>(2, O{T(1e-8), T(-0.1)}), std::invalid_argument);
  xact::dice<T> d(2);
  std::vector<T> x(6, T(1)), y(6);
  EXPECT_THROW(
      d.forward(xact::channel_shape{2, 3, 1}, x.data(), y.data(), xact::dice_mode::training),
      std::invalid_argument);
  EXPECT_THROW(d.backward(xact::channel_shape{3, 2, 1}, x.data(), x.data(), y.data(),
                          xact::dice_mode::training),
               std::logic_error);  // no training forward yet
  EXPECT_THROW(
      d.forward(xact::channel_shape{3, 2, 1}, x.data(), (T*)nullptr, xact::dice_mode::inference),
      std::invalid_argument);
}

}  // namespace
