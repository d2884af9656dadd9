// PReLU   y = x for x > 0,  alpha * x otherwise      (He et al., 2015; alpha learnable)
//   forward        y  = select(x > 0, x, alpha * x): exact (one product, correctly rounded).
//   backward       dx = dy for x > 0,  dy * alpha for x <= 0                         reads x
//                  dalpha = sum of dy * x over x <= 0, per channel (or over everything when
//                  alpha is shared), compensated: the sum of a million products is within a few
//                  ulp of the exact sum of the rounded products (test: 1M+ elements vs long
//                  double). Backward never reads y: y loses the sign of x when alpha <= 0.
//   The kink: prelu'(0) = alpha (the x <= 0 branch, as PyTorch), and x = -0 is on that branch.
//   Values: NaN x gives NaN in y, dx and dalpha. alpha is used as the formula says, whatever it
//   is: alpha = 0 is ReLU except that y(-0) = -0 * 0 = -0 and y(-inf) = 0 * -inf = NaN; alpha < 0
//   flips the sign; alpha = +-inf gives y(0) = NaN (inf * 0) and +-inf below 0; alpha = NaN
//   gives NaN for every x <= 0.
//   Error: 0 ulp (forward and dx are one rounded product; float and double).
//
// API
//   prelu{alpha}                     an elementwise functor (shared alpha) for the elementwise
//                                    drivers: xact::forward(prelu{0.25}, x, y, n), backward_from_x
//   prelu_forward(alpha, x, y, n)                     shared alpha
//   T prelu_backward(alpha, x, dy, dx, n)             returns dalpha
//   prelu_forward(shape, alpha, x, y)                 one alpha per channel (shape.channels)
//   prelu_backward(shape, alpha, x, dy, dx, dalpha)   dalpha[c] overwritten (not accumulated)
// shape: channel_shape{N, C, inner, layout::channels_first or channels_last}. y may be x and dx
// may be dy (in place). dx may be null when only dalpha is wanted. No heap allocation.
// shape.channels = 0 throws std::invalid_argument (no alpha to apply); N = 0 or inner = 0 is an
// empty tensor (nothing written, dalpha = 0).
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>

#include "../core/channelwise.hpp"
#include "../core/elementwise.hpp"
#include "../core/simd.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

struct prelu {
  double alpha = 0.25;  // the shared slope for the elementwise form (PyTorch's initial value)

  prelu() = default;
  explicit prelu(double a) noexcept : alpha(a) {}

  // ---- the math, with alpha as an argument (one value or one lane per channel) ----
  template <class V>
  static V forward(const V& x, const V& a) noexcept {
    // x > 0 is false for NaN: a * NaN = NaN.
    return simd::select(x > V(0), x, a * x);
  }
  template <class V>
  static V backward_from_x(const V& x, const V& a, const V& dy) noexcept {
    using S = simd::scalar_t<V>;
    // slope 1 above 0, alpha at or below, NaN (x itself) for NaN x.
    return dy * simd::select(x > V(0), V(S(1)), simd::select(x <= V(0), a, x));
  }
  // This element's contribution to dalpha: dy * x where x <= 0, 0 above (NaN x: NaN).
  template <class V>
  static V alpha_term(const V& x, const V& dy) noexcept {
    using S = simd::scalar_t<V>;
    return simd::select(x > V(0), V(S(0)), dy * x);
  }

  // ---- elementwise form with the shared member alpha ----
  template <class V>
  V forward(const V& x) const noexcept {
    return forward(x, V(simd::scalar_t<V>(alpha)));
  }
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    return backward_from_x(x, V(simd::scalar_t<V>(alpha)), dy);
  }
  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

// ---- array API -------------------------------------------------------------------------------

namespace detail {
// One alpha per channel: a shape of zero channels has no alpha to apply (a misconfigured layer,
// never an empty batch, which N = 0 or inner = 0 expresses), so it is refused.
inline void check_prelu_channels(const channel_shape& shape) {
  if (shape.channels == 0)
    throw std::invalid_argument("xact::prelu: shape.channels must be > 0 (one alpha per channel)");
}
}  // namespace detail

template <class A = xsimd::default_arch, class T>
inline void prelu_forward(const channel_shape& shape, const T* alpha, const T* x, T* y) {
  using B = xsimd::batch<T, A>;
  detail::check_prelu_channels(shape);
  if (shape.size() != 0 && !y) detail::throw_null("y");
  channelwise<A>(shape, std::array<const T*, 1>{alpha}, std::array<const T*, 1>{x}, y,
                 std::array<T*, 0>{},
                 [](const std::array<B, 1>& p, const std::array<B, 1>& v, std::array<B, 0>&) {
                   return prelu::forward(v[0], p[0]);
                 });
}

template <class A = xsimd::default_arch, class T>
inline void prelu_backward(const channel_shape& shape, const T* alpha, const T* x, const T* dy,
                           T* dx, T* dalpha) {
  using B = xsimd::batch<T, A>;
  detail::check_prelu_channels(shape);
  channelwise<A>(shape, std::array<const T*, 1>{alpha}, std::array<const T*, 2>{x, dy}, dx,
                 std::array<T*, 1>{dalpha},
                 [](const std::array<B, 1>& p, const std::array<B, 2>& v, std::array<B, 1>& t) {
                   t[0] = prelu::alpha_term(v[0], v[1]);
                   return prelu::backward_from_x(v[0], p[0], v[1]);
                 });
}

template <class A = xsimd::default_arch, class T>
inline void prelu_forward(T alpha, const T* x, T* y, std::size_t n) {
  prelu_forward<A>(channel_shape{1, 1, n, layout::channels_first}, &alpha, x, y);
}

template <class A = xsimd::default_arch, class T>
inline T prelu_backward(T alpha, const T* x, const T* dy, T* dx, std::size_t n) {
  T dalpha = T(0);
  prelu_backward<A>(channel_shape{1, 1, n, layout::channels_first}, &alpha, x, dy, dx, &dalpha);
  return dalpha;
}

}  // namespace xact

XACT_DIAGNOSTICS_END
