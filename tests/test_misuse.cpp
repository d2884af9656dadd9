// Misuse gives a clear std::invalid_argument, never a silent wrong answer nor a crash:
// mismatched sizes, null pointers with n > 0, outputs that partially overlap an input (exact
// in place is allowed), invalid parameters. One test per kind, over every function present.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "support.hpp"

#if __has_include(<xact/functions/tanh.hpp>)
#include <xact/functions/tanh.hpp>
#define XT_HAS_TANH 1
#endif
#if __has_include(<xact/functions/softplus.hpp>)
#include <xact/functions/softplus.hpp>
#define XT_HAS_SOFTPLUS 1
#endif
#if __has_include(<xact/functions/leaky_relu.hpp>)
#include <xact/functions/leaky_relu.hpp>
#define XT_HAS_LEAKY_RELU 1
#endif
#if __has_include(<xact/functions/swish.hpp>)
#include <xact/functions/swish.hpp>
#define XT_HAS_SWISH 1
#endif
#if __has_include(<xact/functions/x_min_exp.hpp>)
#include <xact/functions/x_min_exp.hpp>
#define XT_HAS_X_MIN_EXP 1
#endif
#if __has_include(<xact/functions/softmax.hpp>)
#include <xact/functions/softmax.hpp>
#define XT_HAS_SOFTMAX 1
#endif
#if __has_include(<xact/functions/prelu.hpp>)
#include <xact/functions/prelu.hpp>
#define XT_HAS_PRELU 1
#endif
#if __has_include(<xact/functions/dice.hpp>)
#include <xact/functions/dice.hpp>
#define XT_HAS_DICE 1
#endif

namespace {

// The message must say what is wrong, not just throw.
template <class F>
void expect_invalid(F f, const char* needle, const char* what) {
  try {
    f();
    ADD_FAILURE() << what << ": no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << what << ": message \"" << e.what() << "\" does not mention \"" << needle << "\"";
  } catch (...) {
    ADD_FAILURE() << what << ": an exception other than std::invalid_argument";
  }
}

// Every elementwise misuse on one op.
template <class Op>
void elementwise_misuse(const Op& op, const char* name) {
  using B = xsimd::batch<float>;
  std::vector<float> x(40, 0.5f), y(40), dy(40, 1.f), dx(40), shorter(39);
  const float* cnull = nullptr;
  float* null = nullptr;
  const std::string n = name;
  if constexpr (xact::detail::has_forward<Op, B>::value) {
    expect_invalid([&] { xact::forward(op, x, shorter); }, "size mismatch", name);
    expect_invalid([&] { xact::forward(op, cnull, y.data(), 3); }, "null", name);
    expect_invalid([&] { xact::forward(op, x.data(), null, 3); }, "null", name);
    // Output one element ahead of, and one behind, the input: both refused.
    expect_invalid([&] { xact::forward(op, x.data(), x.data() + 1, 20); }, "overlap", name);
    expect_invalid([&] { xact::forward(op, x.data() + 1, x.data(), 20); }, "overlap", name);
    EXPECT_NO_THROW(xact::forward(op, x.data(), x.data(), 20)) << name;
    EXPECT_NO_THROW(xact::forward(op, cnull, null, 0)) << name;
  }
  if constexpr (xact::detail::has_backward_from_x<Op, B>::value) {
    expect_invalid([&] { xact::backward_from_x(op, x, dy, shorter); }, "size mismatch", name);
    expect_invalid([&] { xact::backward_from_x(op, x, shorter, dx); }, "size mismatch", name);
    expect_invalid([&] { xact::backward_from_x(op, cnull, dy.data(), dx.data(), 3); }, "null",
                   name);
    expect_invalid([&] { xact::backward_from_x(op, x.data(), cnull, dx.data(), 3); }, "null", name);
    expect_invalid([&] { xact::backward_from_x(op, x.data(), dy.data(), null, 3); }, "null", name);
    expect_invalid([&] { xact::backward_from_x(op, x.data(), dy.data(), x.data() + 3, 20); },
                   "overlap", name);
    expect_invalid([&] { xact::backward_from_x(op, x.data(), dy.data(), dy.data() + 3, 20); },
                   "overlap", name);
    EXPECT_NO_THROW(xact::backward_from_x(op, x.data(), dy.data(), dy.data(), 20)) << name;
  }
  if constexpr (xact::detail::has_backward_from_y<Op, B>::value) {
    bool usable = true;
    try {
      xact::detail::check_from_y(op);
    } catch (const std::invalid_argument&) {
      usable = false;
    }
    if (usable) {
      expect_invalid([&] { xact::backward_from_y(op, y, dy, shorter); }, "size mismatch", name);
      expect_invalid([&] { xact::backward_from_y(op, cnull, dy.data(), dx.data(), 3); }, "null",
                     name);
      expect_invalid([&] { xact::backward_from_y(op, y.data(), dy.data(), y.data() + 1, 20); },
                     "overlap", name);
    }
  }
  // backward with neither x nor y.
  std::vector<float> none;
  if constexpr (xact::detail::has_backward_from_x<Op, B>::value ||
                xact::detail::has_backward_from_y<Op, B>::value)
    expect_invalid([&] { xact::backward(op, none, none, dy, dx); }, "neither", name);
}

TEST(Misuse, ElementwiseSizesNullsOverlap) {
  elementwise_misuse(xact::sigmoid{}, "sigmoid");
  elementwise_misuse(xact::relu{}, "relu");
#ifdef XT_HAS_TANH
  elementwise_misuse(xact::tanh{}, "tanh");
#endif
#ifdef XT_HAS_SOFTPLUS
  elementwise_misuse(xact::softplus{}, "softplus");
#endif
#ifdef XT_HAS_LEAKY_RELU
  elementwise_misuse(xact::leaky_relu{0.1}, "leaky_relu");
#endif
#ifdef XT_HAS_SWISH
  elementwise_misuse(xact::swish{1.0}, "swish");
#endif
#ifdef XT_HAS_X_MIN_EXP
  elementwise_misuse(xact::x_min_exp{}, "x_min_exp");
#endif
}

TEST(Misuse, InvalidParameters) {
  XT_SKIP_IF_FAST_MATH();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
#ifdef XT_HAS_LEAKY_RELU
  expect_invalid([&] { xact::leaky_relu{nan}; }, "slope", "leaky_relu(NaN)");
  expect_invalid([&] { xact::leaky_relu{inf}; }, "slope", "leaky_relu(inf)");
  // slope <= 0: y does not determine the side of 0, so backward_from_y is refused.
  std::vector<float> y(4), dy(4), dx(4);
  expect_invalid([&] { xact::backward_from_y(xact::leaky_relu{-0.5}, y, dy, dx); },
                 "backward_from_x", "leaky_relu(-0.5).backward_from_y");
  expect_invalid([&] { xact::backward_from_y(xact::leaky_relu{0.0}, y, dy, dx); },
                 "backward_from_x", "leaky_relu(0).backward_from_y");
#endif
#ifdef XT_HAS_SOFTPLUS
  expect_invalid([&] { xact::softplus{0.0}; }, "beta", "softplus(beta = 0)");
  expect_invalid([&] { xact::softplus{-1.0}; }, "beta", "softplus(beta = -1)");
  expect_invalid([&] { xact::softplus{nan}; }, "beta", "softplus(beta = NaN)");
  expect_invalid([&] { xact::softplus{inf}; }, "beta", "softplus(beta = inf)");
  expect_invalid([&] { xact::softplus(1.0, nan); }, "threshold", "softplus(threshold = NaN)");
#endif
#ifdef XT_HAS_SWISH
  expect_invalid([&] { xact::swish{nan}; }, "beta", "swish(NaN)");
  expect_invalid([&] { xact::swish{inf}; }, "beta", "swish(inf)");
#endif
  (void)nan;
  (void)inf;
}

#ifdef XT_HAS_SOFTMAX
TEST(Misuse, Softmax) {
  std::vector<float> x(24, 1.f), y(24), dy(24, 1.f), dx(24), shorter(23);
  const float* cnull = nullptr;
  float* null = nullptr;
  expect_invalid(
      [&] {
        xact::softmax_forward(x, shorter, xact::row_shape{2, 12, 1});
      },
      "size mismatch", "softmax_forward sizes");
  expect_invalid(
      [&] {
        xact::softmax_forward(shorter, y, xact::row_shape{2, 12, 1});
      },
      "size mismatch", "softmax_forward shape");
  expect_invalid(
      [&] {
        xact::softmax_backward(y, dy, shorter, xact::row_shape{2, 12, 1});
      },
      "size mismatch", "softmax_backward sizes");
  expect_invalid([&] { xact::softmax_forward(cnull, y.data(), 2, 12); }, "null",
                 "softmax_forward null x");
  expect_invalid([&] { xact::softmax_forward(x.data(), null, 2, 12); }, "null",
                 "softmax_forward null y");
  expect_invalid([&] { xact::softmax_forward(x.data(), x.data() + 1, 2, 11); }, "overlap",
                 "softmax_forward overlap");
  expect_invalid([&] { xact::softmax_backward(y.data(), dy.data(), y.data() + 2, 2, 11); },
                 "overlap", "softmax_backward overlap");
  EXPECT_NO_THROW(xact::softmax_forward(x.data(), x.data(), 2, 12));
}
#endif

#ifdef XT_HAS_PRELU
TEST(Misuse, Prelu) {
  std::vector<float> x(24, 1.f), y(24), dy(24, 1.f), dx(24), alpha(3, 0.25f);
  const float* cnull = nullptr;
  float* null = nullptr;
  const xact::channel_shape s{2, 3, 4, xact::layout::channels_first};
  expect_invalid([&] { xact::prelu_forward(s, cnull, x.data(), y.data()); }, "null",
                 "prelu_forward null alpha");
  expect_invalid([&] { xact::prelu_forward(s, alpha.data(), cnull, y.data()); }, "null",
                 "prelu_forward null x");
  expect_invalid([&] { xact::prelu_forward(s, alpha.data(), x.data(), null); }, "null",
                 "prelu_forward null y");
  expect_invalid([&] { xact::prelu_forward(s, alpha.data(), x.data(), x.data() + 1); }, "overlap",
                 "prelu_forward overlap");
  expect_invalid(
      [&] { xact::prelu_backward(s, alpha.data(), x.data(), dy.data(), dx.data(), null); }, "null",
      "prelu_backward null dalpha");
  std::vector<float> da(3);
  expect_invalid(
      [&] { xact::prelu_backward(s, alpha.data(), cnull, dy.data(), dx.data(), da.data()); },
      "null", "prelu_backward null x");
  expect_invalid(
      [&] { xact::prelu_backward(s, alpha.data(), x.data(), cnull, dx.data(), da.data()); }, "null",
      "prelu_backward null dy");
  expect_invalid([&] { xact::prelu_backward(s, cnull, x.data(), dy.data(), dx.data(), da.data()); },
                 "null", "prelu_backward null alpha");
  expect_invalid(
      [&] { xact::prelu_backward(s, alpha.data(), x.data(), dy.data(), x.data() + 2, da.data()); },
      "overlap", "prelu_backward dx overlaps x");
  expect_invalid(
      [&] { xact::prelu_backward(s, alpha.data(), x.data(), dy.data(), dy.data() + 5, da.data()); },
      "overlap", "prelu_backward dx overlaps dy");
  EXPECT_NO_THROW(xact::prelu_backward(s, alpha.data(), x.data(), dy.data(), dy.data(), da.data()));
  // Channels-last shapes are checked the same way.
  const xact::channel_shape l{2, 3, 4, xact::layout::channels_last};
  expect_invalid([&] { xact::prelu_forward(l, alpha.data(), x.data(), x.data() + 3); }, "overlap",
                 "prelu_forward channels_last overlap");
  expect_invalid([&] { xact::prelu_forward(l, alpha.data(), cnull, y.data()); }, "null",
                 "prelu_forward channels_last null x");
}

// Zero channels: no alpha to apply, refused in both layouts; an empty batch (N = 0 or inner = 0)
// is a tensor with no elements: nothing written, dalpha = 0.
TEST(Misuse, PreluZeroChannels) {
  std::vector<float> x(8, -1.f), y(8, 7.f), dy(8, 1.f), dx(8, 7.f), alpha(2, 0.25f), da(2, 7.f);
  for (auto order : {xact::layout::channels_first, xact::layout::channels_last}) {
    const xact::channel_shape z{2, 0, 4, order};
    expect_invalid([&] { xact::prelu_forward(z, alpha.data(), x.data(), y.data()); }, "channels",
                   "prelu_forward zero channels");
    expect_invalid(
        [&] { xact::prelu_backward(z, alpha.data(), x.data(), dy.data(), dx.data(), da.data()); },
        "channels", "prelu_backward zero channels");
    for (const xact::channel_shape e :
         {xact::channel_shape{0, 2, 4, order}, xact::channel_shape{2, 2, 0, order}}) {
      EXPECT_NO_THROW(xact::prelu_forward(e, alpha.data(), x.data(), y.data()));
      EXPECT_NO_THROW(
          xact::prelu_backward(e, alpha.data(), x.data(), dy.data(), dx.data(), da.data()));
      EXPECT_EQ(da[0], 0.f);
      EXPECT_EQ(da[1], 0.f);
      da.assign(2, 7.f);
    }
  }
  for (float v : y) EXPECT_EQ(v, 7.f);
  for (float v : dx) EXPECT_EQ(v, 7.f);
}

// Alpha is not checked: it is learnable and used as the formula says (documented in
// prelu.hpp). NaN alpha gives NaN exactly where it is used (x <= 0), in its channel only;
// dalpha (sum of dy x over x <= 0) does not read alpha and stays finite; +-inf alpha gives
// +-inf below 0 and NaN at 0 (inf * 0).
template <class T>
void prelu_nonfinite_alpha() {
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  const std::array<T, 5> xs{T(2), T(0.5), T(0), T(-0.0), T(-3)};
  const xact::prelu p{static_cast<double>(nan)};
  for (T x : xs) {
    const T y = p(x);
    if (x > 0) {
      EXPECT_EQ(y, x);
      EXPECT_EQ(p.backward_from_x(x, T(3)), T(3));
    } else {
      EXPECT_TRUE(std::isnan(y)) << x;
      EXPECT_TRUE(std::isnan(p.backward_from_x(x, T(3)))) << x;
    }
  }
  // The array forms: elementwise driver and channelwise (NaN in channel 1 of 3, inf in 2).
  // Buffers of 16 (the first 5 used) and n through a volatile: with the constant 5 or a
  // 5-element allocation visible, GCC 12 warns (-Warray-bounds) about the driver's full-batch
  // code (the unrolled body at -O2; one AVX-512 batch of 8 doubles), which never runs for n = 5.
  std::vector<T> x(16), y(16);
  std::copy(xs.begin(), xs.end(), x.begin());
  volatile std::size_t nv = xs.size();
  xact::forward(p, x.data(), y.data(), static_cast<std::size_t>(nv));
  for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(std::isnan(y[i]), !(x[i] > 0)) << i;
  const std::size_t N = 3, C = 3, I = xs.size();
  std::vector<T> cx(N * C * I), cy(N * C * I), cdy(N * C * I, T(2)), cdx(N * C * I), da(C);
  for (std::size_t i = 0; i < cx.size(); ++i) cx[i] = xs[i % I];
  const std::array<T, 3> alpha{T(0.25), nan, inf};
  const xact::channel_shape s{N, C, I, xact::layout::channels_first};
  xact::prelu_forward(s, alpha.data(), cx.data(), cy.data());
  xact::prelu_backward(s, alpha.data(), cx.data(), cdy.data(), cdx.data(), da.data());
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < I; ++i) {
        const std::size_t e = (n * C + c) * I + i;
        const T xv = cx[e];
        if (xv > 0) {
          EXPECT_EQ(cy[e], xv);
          EXPECT_EQ(cdx[e], T(2));
        } else if (c == 0) {
          EXPECT_EQ(cy[e], T(0.25) * xv);
          EXPECT_EQ(cdx[e], T(0.5));
        } else if (c == 1) {
          EXPECT_TRUE(std::isnan(cy[e]) && std::isnan(cdx[e])) << e;
        } else if (xv == 0) {
          EXPECT_TRUE(std::isnan(cy[e])) << e;  // inf * 0
          EXPECT_EQ(cdx[e], inf);
        } else {
          EXPECT_EQ(cy[e], -inf);
          EXPECT_EQ(cdx[e], inf);
        }
      }
  // Every channel holds the same x: dalpha = N * sum 2 x over x <= 0 = 3 * 2 * -3 = -18.
  for (std::size_t c = 0; c < C; ++c) EXPECT_EQ(da[c], T(-18)) << c;
}

TEST(Misuse, PreluNonFiniteAlphaIsTheFormula) {
  XT_SKIP_IF_FAST_MATH();
  prelu_nonfinite_alpha<float>();
  prelu_nonfinite_alpha<double>();
}
#endif

#ifdef XT_HAS_LEAKY_RELU
// The slope is checked once, by the constructor, and cannot be changed afterwards.
template <class Op, class = void>
struct slope_assignable : std::false_type {};
template <class Op>
struct slope_assignable<Op, std::void_t<decltype(std::declval<Op&>().slope = 0.5)>>
    : std::true_type {};

TEST(Misuse, LeakyReluSlopeIsCheckedAndReadOnly) {
  XT_SKIP_IF_FAST_MATH();
  static_assert(!slope_assignable<xact::leaky_relu>::value,
                "leaky_relu's slope must not be assignable after the constructor checked it");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_invalid([&] { xact::leaky_relu{-nan}; }, "slope", "leaky_relu(-NaN)");
  expect_invalid([&] { xact::leaky_relu{-std::numeric_limits<double>::infinity()}; }, "slope",
                 "leaky_relu(-inf)");
  EXPECT_EQ(xact::leaky_relu{}.slope(), 0.01);
  EXPECT_EQ(xact::leaky_relu{-2.0}.slope(), -2.0);
}
#endif

#ifdef XT_HAS_DICE
template <class T>
void dice_misuse() {
  using O = xact::dice_options<T>;
  using L = std::numeric_limits<T>;
  const T nan = L::quiet_NaN(), inf = L::infinity();
  // Options.
  expect_invalid([] { xact::dice<T>(0); }, "features", "dice(0 features)");
  for (T eps : {T(0), T(-0.0), T(-1e-8), nan, inf, -inf})
    expect_invalid([&] { xact::dice<T>(2, O{eps}); }, "eps", "dice(eps)");
  for (T m : {T(-0.1), T(1.5), nan, inf, -inf})
    expect_invalid([&] { xact::dice<T>(2, O{T(1e-8), m}); }, "momentum", "dice(momentum)");
  EXPECT_NO_THROW(xact::dice<T>(2, O{T(1e-8), T(0)}));
  EXPECT_NO_THROW(xact::dice<T>(2, O{T(1e-8), T(1)}));

  const std::size_t C = 3, N = 4;
  const xact::channel_shape s{N, C, 1, xact::layout::channels_last};
  std::vector<T> x(N * C), y(N * C), dy(N * C, T(1)), dx(N * C);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = T(i % 5) - T(2);
  const T* cnull = nullptr;
  T* null = nullptr;
  for (auto mode : {xact::dice_mode::training, xact::dice_mode::inference}) {
    xact::dice<T> d(C);
    // Shape against the layer: other channel counts, zero channels.
    for (std::size_t c : {std::size_t(0), C - 1, C + 1})
      expect_invalid(
          [&] {
            d.forward(xact::channel_shape{N, c, 1}, x.data(), y.data(), mode);
          },
          "channels", "dice.forward channels");
    // Nulls and partial overlap.
    expect_invalid([&] { d.forward(s, cnull, y.data(), mode); }, "null", "dice.forward null x");
    expect_invalid([&] { d.forward(s, x.data(), null, mode); }, "null", "dice.forward null y");
    expect_invalid([&] { d.forward(s, x.data(), x.data() + 1, mode); }, "overlap",
                   "dice.forward overlap");
    EXPECT_NO_THROW(d.forward(s, x.data(), y.data(), mode));
    expect_invalid(
        [&] {
          d.backward(xact::channel_shape{N, C + 1, 1}, x.data(), dy.data(), dx.data(), mode);
        },
        "channels", "dice.backward channels");
    expect_invalid([&] { d.backward(s, x.data(), dy.data(), null, mode); }, "null",
                   "dice.backward null dx");
    expect_invalid([&] { d.backward(s, x.data(), cnull, dx.data(), mode); }, "null",
                   "dice.backward null dy");
    expect_invalid([&] { d.backward(s, x.data(), dy.data(), dy.data() + 2, mode); }, "overlap",
                   "dice.backward overlap dy");
    expect_invalid([&] { d.backward(s, x.data(), dy.data(), x.data() + 2, mode); }, "overlap",
                   "dice.backward overlap x");
    EXPECT_NO_THROW(d.backward(s, x.data(), dy.data(), dx.data(), mode));
  }
  // A refused training forward leaves the running statistics alone.
  {
    xact::dice<T> d(C);
    expect_invalid([&] { d.forward(s, x.data(), x.data() + 1, xact::dice_mode::training); },
                   "overlap", "dice.forward overlap (training)");
    expect_invalid([&] { d.forward(s, cnull, y.data(), xact::dice_mode::training); }, "null",
                   "dice.forward null x (training)");
    for (std::size_t c = 0; c < C; ++c) {
      EXPECT_EQ(d.running_mean[c], T(0));
      EXPECT_EQ(d.running_var[c], T(1));
    }
  }
  // Training backward needs the training forward of a tensor of this size.
  {
    xact::dice<T> d(C);
    try {
      d.backward(s, x.data(), dy.data(), dx.data(), xact::dice_mode::training);
      ADD_FAILURE() << "dice training backward without forward: no exception";
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find("forward"), std::string::npos) << e.what();
    }
  }
  // Member vectors resized by the caller (they are public): refused, never read out of bounds.
  for (int which = 0; which < 10; ++which)
    for (std::size_t size : {std::size_t(0), C - 1, C + 1}) {
      xact::dice<T> d(C);
      std::vector<T>* v[] = {&d.alpha,       &d.gamma,      &d.beta,       &d.running_mean,
                             &d.running_var, &d.batch_mean, &d.batch_rstd, &d.grad_alpha,
                             &d.grad_gamma,  &d.grad_beta};
      v[which]->resize(size);
      for (auto mode : {xact::dice_mode::training, xact::dice_mode::inference})
        expect_invalid([&] { d.forward(s, x.data(), y.data(), mode); }, "size mismatch",
                       "dice.forward resized member");
      expect_invalid(
          [&] { d.backward(s, x.data(), dy.data(), dx.data(), xact::dice_mode::inference); },
          "size mismatch", "dice.backward resized member");
    }
  // All of them resized alike: the layer keeps the features it was built with.
  {
    xact::dice<T> d(C);
    for (auto* v : {&d.alpha, &d.gamma, &d.beta, &d.running_mean, &d.running_var, &d.batch_mean,
                    &d.batch_rstd, &d.grad_alpha, &d.grad_gamma, &d.grad_beta})
      v->resize(C + 1, T(1));
    EXPECT_EQ(d.features(), C);
    std::vector<T> x2(N * (C + 1), T(1)), y2(N * (C + 1));
    expect_invalid(
        [&] {
          d.forward(xact::channel_shape{N, C + 1, 1}, x2.data(), y2.data(),
                    xact::dice_mode::training);
        },
        "channels", "dice.forward all members resized, shape as resized");
    expect_invalid([&] { d.forward(s, x.data(), y.data(), xact::dice_mode::training); },
                   "size mismatch", "dice.forward all members resized, shape as built");
  }
  // A batch of zero rows: no error, nothing written, running statistics unchanged, gradients
  // zero; null pointers are fine with no elements.
  for (const xact::channel_shape e : {xact::channel_shape{0, C, 1, xact::layout::channels_last},
                                      xact::channel_shape{0, C, 5}, xact::channel_shape{2, C, 0}}) {
    xact::dice<T> d(C);
    d.running_mean = {T(1), T(2), T(3)};
    d.running_var = {T(4), T(5), T(6)};
    d.grad_alpha.assign(C, T(9));
    EXPECT_NO_THROW(d.forward(e, cnull, null, xact::dice_mode::training));
    EXPECT_NO_THROW(d.backward(e, cnull, cnull, null, xact::dice_mode::training));
    EXPECT_NO_THROW(d.forward(e, cnull, null, xact::dice_mode::inference));
    EXPECT_NO_THROW(d.backward(e, cnull, cnull, null, xact::dice_mode::inference));
    for (std::size_t c = 0; c < C; ++c) {
      EXPECT_EQ(d.running_mean[c], T(c + 1));
      EXPECT_EQ(d.running_var[c], T(c + 4));
      EXPECT_EQ(d.grad_alpha[c], T(0));
      EXPECT_EQ(d.grad_gamma[c], T(0));
      EXPECT_EQ(d.grad_beta[c], T(0));
    }
  }
}

TEST(Misuse, Dice) {
  XT_SKIP_IF_FAST_MATH();
  dice_misuse<float>();
  dice_misuse<double>();
}
#endif

#ifdef XT_HAS_SOFTMAX
TEST(Misuse, LogSoftmaxAndEmptyRows) {
  std::vector<float> x(24, 1.f), y(24, 7.f), dy(24, 1.f), dx(24, 7.f), shorter(23);
  const float* cnull = nullptr;
  float* null = nullptr;
  const xact::row_shape sh{2, 12, 1};
  expect_invalid([&] { xact::log_softmax_forward(x, shorter, sh); }, "size mismatch",
                 "log_softmax_forward sizes");
  expect_invalid([&] { xact::log_softmax_forward(shorter, y, sh); }, "size mismatch",
                 "log_softmax_forward shape");
  expect_invalid([&] { xact::log_softmax_backward(y, shorter, dx, sh); }, "size mismatch",
                 "log_softmax_backward sizes");
  expect_invalid(
      [&] {
        xact::softmax_backward(y, dy, dx, xact::row_shape{2, 3, 3});
      },
      "size mismatch", "softmax_backward shape");
  expect_invalid([&] { xact::log_softmax_forward(cnull, y.data(), 2, 12); }, "null",
                 "log_softmax_forward null x");
  expect_invalid([&] { xact::log_softmax_backward(y.data(), cnull, dx.data(), 2, 12); }, "null",
                 "log_softmax_backward null dy");
  expect_invalid([&] { xact::softmax_backward(y.data(), dy.data(), null, 2, 12); }, "null",
                 "softmax_backward null dx");
  expect_invalid([&] { xact::softmax_backward(cnull, dy.data(), dx.data(), 2, 12); }, "null",
                 "softmax_backward null y");
  expect_invalid([&] { xact::log_softmax_forward(x.data(), x.data() + 3, 1, 12, 1); }, "overlap",
                 "log_softmax_forward overlap");
  expect_invalid([&] { xact::log_softmax_backward(y.data(), dy.data(), dy.data() + 1, 2, 11); },
                 "overlap", "log_softmax_backward overlap dy");
  // Along another axis (inner > 1) the same checks.
  expect_invalid([&] { xact::softmax_forward(x.data(), x.data() + 5, 2, 3, 4); }, "overlap",
                 "softmax_forward inner overlap");
  // An axis of length 0 (or no rows) is an empty tensor: nothing written, no error (softmax.hpp).
  for (const xact::row_shape e :
       {xact::row_shape{2, 0, 1}, xact::row_shape{0, 12, 1}, xact::row_shape{2, 12, 0}}) {
    EXPECT_NO_THROW(xact::softmax_forward(cnull, null, e.outer, e.axis, e.inner));
    EXPECT_NO_THROW(xact::log_softmax_backward(cnull, cnull, null, e.outer, e.axis, e.inner));
    EXPECT_NO_THROW(xact::softmax_forward(x.data(), y.data(), e.outer, e.axis, e.inner));
  }
  for (float v : y) EXPECT_EQ(v, 7.f);
  EXPECT_NO_THROW(xact::log_softmax_forward(x.data(), x.data(), 2, 12));
  EXPECT_NO_THROW(xact::log_softmax_backward(y.data(), dy.data(), dy.data(), 2, 12));
}
#endif

}  // namespace
