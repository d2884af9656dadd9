// softplus{beta = 1, threshold = 20}   PyTorch's torch.nn.Softplus
//   forward        y = log(1 + e^(beta x)) / beta,   and y = x where beta * x > threshold
//                  (beta * x rounded in the tensor's type, as PyTorch compares it).
//                  threshold = +inf (softplus::exact(beta)) drops the switch: the exact curve
//                  everywhere (it still returns x where the log term is far below an ulp).
//                  Evaluated as max(z, 0) + log1p(e^-|z|) with z = beta x: e^ is never taken of
//                  a positive number (nothing overflows), and for very negative x the result is
//                  log1p(tiny) = tiny, e^(beta x) / beta down into the subnormals, never 0.
//                  z is kept exact as zh + zl (two_prod): e^-|z| is corrected by zl, so a beta
//                  that is not a power of two costs no accuracy where e^z is tiny. The division
//                  by beta is a multiplication by 1/beta plus one exact-residual correction.
//   backward_from_x   dx = dy * sigmoid(beta x), dy beyond the threshold           reads x
//                  compensated like sigmoid's: dy / 2 at x = 0, exactly dy far right, e^z dy
//                  far left.
//   Values: y(-inf) = 0, y(+inf) = +inf, y(0) = log(2) / beta, NaN propagates.
//   Parameters: beta a positive normal float (in [FLT_MIN, FLT_MAX]), threshold not NaN
//   (std::invalid_argument otherwise); threshold may be +-inf.
//   Error (strict ULP; 2^20 strided floats, 2^20 sampled doubles, native and baseline builds):
//   beta = 1 (threshold 20 or +inf): forward float <= 1, double <= 2; backward_from_x <= 2.
//   beta = 0.3: forward <= 3 (the log term is rounded before the division by beta),
//   backward_from_x <= 2.
#pragma once

#include <cmath>
#include <limits>
#include <stdexcept>

#include "../core/math.hpp"

namespace xact {

class softplus {
 public:
  explicit softplus(double beta = 1, double threshold = 20) : beta_(beta), threshold_(threshold) {
    // beta is used in float and double: it must be a positive normal number in both.
    if (!(beta >= std::numeric_limits<float>::min() && beta <= std::numeric_limits<float>::max()))
      throw std::invalid_argument("xact::softplus: beta must be positive and finite (in float)");
    if (std::isnan(threshold)) throw std::invalid_argument("xact::softplus: threshold is NaN");
  }
  // The exact curve, with no switch to x (threshold = +inf).
  static softplus exact(double beta = 1) {
    return softplus(beta, std::numeric_limits<double>::infinity());
  }
  double beta() const noexcept { return beta_; }
  double threshold() const noexcept { return threshold_; }

  template <class V>
  V forward(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V b = V(static_cast<S>(beta_));
    V zl;
    const V zh = split(b, x, zl);
    const auto pos = zh > V(0);
    const V t0 = math::exp(-simd::abs(zh));
    const V t = simd::fma(t0, simd::select(pos, -zl, zl), t0);  // e^-|z|, z = zh + zl
    const V sum = simd::max(zh, V(0)) + (math::log1p(t) + simd::select(pos, zl, V(0)));
    // sum / beta: q0 from 1/beta, corrected by the exact residual (q0 = sum when beta = 1).
    const V ib = V(static_cast<S>(1 / static_cast<S>(beta_)));
    const V q0 = sum * ib;
    const V y = simd::fma(simd::fma(-q0, b, sum), ib, q0);
    return simd::select(zh > V(cut<S>()), x, y);
  }

  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V b = V(static_cast<S>(beta_));
    V zl;
    const V zh = split(b, x, zl);
    const auto pos = zh > V(0);
    const V t0 = math::exp(-simd::abs(zh));
    const V t = simd::fma(t0, simd::select(pos, -zl, zl), t0);
    // dy * num / (h + l), num = 1 (z > 0) or t, 1 + t = h + l exactly: one correction step.
    V l;
    const V h = simd::fast_two_sum(V(1), t, l);
    const V rh = V(1) / h;
    V ne;
    const V n = simd::two_prod(dy, simd::select(pos, V(1), t), ne);
    const V q0 = n * rh;
    V pe;
    const V p = simd::two_prod(q0, h, pe);
    const V res = (((n - p) - pe) + ne) - q0 * l;
    const V g = simd::fma(res, rh, q0);
    // zh > threshold is false for NaN: the NaN in g flows through.
    return simd::select(zh > V(static_cast<S>(threshold_)), dy, g);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }

 private:
  // beta x = zh + zl exactly; zl = 0 where zh is infinite (two_prod gives NaN or inf there).
  template <class V>
  static V split(const V& b, const V& x, V& zl) noexcept {
    using S = simd::scalar_t<V>;
    V e;
    const V zh = simd::two_prod(b, x, e);
    zl = simd::select(simd::abs(e) < V(std::numeric_limits<S>::infinity()), e, V(0));
    return zh;
  }

  // Where the forward returns x: beyond the threshold, and beyond z = 2^7 in exact mode too
  // (there log1p(e^-z) / beta < e^-128 x: x is the correctly rounded result, and beta * x may
  // have overflowed).
  template <class S>
  S cut() const noexcept {
    const S thr = static_cast<S>(threshold_);
    return thr < S(128) ? thr : S(128);
  }

  double beta_;
  double threshold_;
};

}  // namespace xact
