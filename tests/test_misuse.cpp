// Misuse gives a clear std::invalid_argument, never a silent wrong answer nor a crash:
// mismatched sizes, null pointers with n > 0, outputs that partially overlap an input (exact
// in place is allowed), invalid parameters. One test per kind, over every function present.
#include <array>
#include <string>

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
}
#endif

}  // namespace
