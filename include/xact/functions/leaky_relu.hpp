// LeakyReLU   y = x for x > 0, slope * x otherwise          (slope: a finite constant, 0.01)
//   forward        y = x for x > 0, slope * x for x <= 0, rounded once (exact for x > 0).
//                  -0 gives slope * -0: -0 for slope > 0, +0 for slope < 0, -0 for slope = 0
//                  (PyTorch's x * slope). y(+inf) = +inf, y(-inf) = -inf * sign(slope), and 0
//                  (-0) for slope = 0, the limit, not 0 * inf = NaN. NaN propagates.
//   backward_from_x   dx = dy for x > 0, slope * dy for x <= 0: the derivative at 0 is the
//                  slope, as in PyTorch. NaN for x NaN. IEEE product: dy = +-inf with slope 0 at
//                  x <= 0 gives NaN (inf * 0), as ReLU does.                        reads x
//   backward_from_y   the same from y, only for slope > 0 (then y > 0 exactly when x > 0, also
//                  when slope * x underflows to -0); for slope <= 0 the sign of y does not tell
//                  the side of x and check_backward_from_y() throws.                  reads y
//   Parameters: slope must be finite (any sign; 0 is ReLU with dx = 0 at x <= 0), checked by
//   the constructor and read-only after (slope()).
//   Error: forward 0 ulp for x > 0, one rounding (<= 0.5 ulp, so 0 against the correctly rounded
//   result) for x <= 0; backward the same: 0 ulp.
#pragma once

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "../core/simd.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

class leaky_relu {
 public:
  static constexpr bool stream_forward = true;  // memory-bound: see core/elementwise.hpp
  static constexpr bool stream_backward = true;

  leaky_relu() = default;
  explicit leaky_relu(double negative_slope) : slope_(negative_slope) {
    if (!std::isfinite(slope_))
      throw std::invalid_argument("xact::leaky_relu: slope must be finite, got " +
                                  std::to_string(slope_));
  }

  // Read-only: the constructor is the one place a slope is checked, so it cannot be changed
  // afterwards (a NaN or infinite slope would give a silent NaN or wrong sign).
  double slope() const noexcept { return slope_; }

  void check_backward_from_y() const {
    if (!(slope_ > 0))
      throw std::invalid_argument(
          "xact::leaky_relu: backward_from_y needs slope > 0 (got " + std::to_string(slope_) +
          "): with slope <= 0 the output y does not tell which side of 0 x was on; use "
          "backward_from_x");
  }

  template <class V>
  V forward(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V a = V(static_cast<S>(slope_));
    // With slope = 0, x is clamped to the finite range first so that -inf gives 0, not NaN;
    // max(c, x) keeps NaN (x second) and changes no other x.
    const V c =
        V(slope_ == 0 ? std::numeric_limits<S>::lowest() : -std::numeric_limits<S>::infinity());
    // x > 0 is false for NaN: a * NaN = NaN flows through.
    // The product as an fma (simd::mul_fma, the same bits): subnormal x, no slow path.
    return simd::select(x > V(0), x, simd::mul_fma(a, simd::max(c, x)));
  }

  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V a = V(static_cast<S>(slope_));
    // The factor is 1, the slope, or x itself when x is NaN (neither comparison holds).
    return dy * simd::select(x > V(0), V(1), simd::select(x <= V(0), a, x));
  }

  template <class V>
  V backward_from_y(const V& y, const V& dy) const noexcept {
    return backward_from_x(y, dy);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }

 private:
  double slope_ = 0.01;
};

}  // namespace xact

XACT_DIAGNOSTICS_END
