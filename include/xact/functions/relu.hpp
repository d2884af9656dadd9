// ReLU   y = max(x, 0)
//   forward        y  = x for x > 0, +0 otherwise (relu(-1) = +0, relu(-0) = +0), NaN -> NaN.
//   backward_from_x   dx = dy * f'(x) with f'(x) = 1 for x > 0, 0 for x <= 0 (so relu'(0) = 0,
//                  as in PyTorch, TensorFlow and JAX), NaN for x NaN. The product is IEEE's:
//                  dy = NaN gives NaN, dy = +-inf at x <= 0 gives NaN (inf * 0).     reads x
//   backward_from_y   the same from y (y > 0 exactly when x > 0).                     reads y
//   Exact: 0 ulp.
#pragma once

#include "../core/simd.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

struct relu {
  static constexpr bool stream_forward = true;  // memory-bound: see core/elementwise.hpp
  static constexpr bool stream_backward = true;
  template <class V>
  V forward(const V& x) const noexcept {
    // x <= 0 is false for NaN, so NaN keeps x.
    return simd::select(x <= V(0), V(0), x);
  }

  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    return dy * simd::select(x > V(0), V(1), simd::select(x <= V(0), V(0), x));
  }

  template <class V>
  V backward_from_y(const V& y, const V& dy) const noexcept {
    return backward_from_x(y, dy);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact

XACT_DIAGNOSTICS_END
