// sigmoid   s(x) = 1 / (1 + e^-x)
//   forward        y  = 1/(1+e)  for x >= 0,  e/(1+e)  below, with e = e^-|x| in (0, 1]:
//                  e^ is never taken of a positive number, so nothing overflows, and for very
//                  negative x the result is e^x itself, down into the subnormals.
//                  1 + e is kept exactly as h + l (e <= 1), and the quotient gets one Newton
//                  correction against h + l, so the only errors left are e's and the last
//                  rounding.
//   backward_from_y   dx = dy * y(1 - y)       y - y*y by one fma, then * dy       reads y
//   backward_from_x   dx = dy e / (1 + e)^2    compensated, one final rounding      reads x
//                  s(1-s) computed from y cancels for large |x| (1 - y is 0 once y rounds to
//                  1, at x ~ 17 in float); from x, the derivative stays accurate to e^-|x|.
//   Values: s(-inf) = 0, s(+inf) = 1, s(+-0) = 0.5, s(NaN) = NaN; 0 <= s <= 1 always.
//   Error (strict ULP, see README): forward float <= 1, double <= 1;
//   backward_from_x float <= 2, double <= 2.
#pragma once

#include <limits>

#include "../core/math.hpp"

namespace xact {

struct sigmoid {
  // num / (h + l), with rh = 1/h rounded: one correction step of the product against the
  // denominator h + l. num - q0 h is exact (residual); q0 l is a correction of about an ulp of
  // q0, so rounding it costs ~2^-24 ulp of the result; the final fma rounds once. With a
  // hardware fma this is 4 operations instead of 7 (sigmoid forward at 16K floats: 1.20 ->
  // 1.02 ns/element on AMD EPYC AVX2), with the same measured error.
  template <class V>
  static V div_hl(const V& num, const V& h, const V& l, const V& rh) noexcept {
    const V q0 = num * rh;
    const V res = simd::fma(-q0, l, residual(q0, h, num));
    return simd::fma(res, rh, q0);
  }

  // c - a b with the product unrounded: one fma where fma rounds once (XACT_HAS_FMA holds for
  // the scalar and the batch fma alike, so both take the same branch); otherwise through
  // two_prod, as a separate fma would round the product and lose the whole residual.
  template <class V>
  static V residual(const V& a, const V& b, const V& c) noexcept {
#if XACT_HAS_FMA
    return simd::fma(-a, b, c);
#else
    V e;
    const V p = simd::two_prod(a, b, e);
    return simd::opaque(c - p) - e;
#endif
  }

  template <class V>
  V forward(const V& x) const noexcept {
    const V e = math::exp(-simd::abs(x));
    V l;
    const V h = simd::fast_two_sum(V(1), e, l);
    const V rh = V(1) / h;
    // x >= 0 is false for NaN: e (NaN) flows through.
    return div_hl(simd::select(x >= V(0), V(1), e), h, l, rh);
  }

  // dy * y(1 - y): with an fma, y - y*y is rounded once (the correctly rounded y(1 - y), no
  // cancellation near y = 1), then the product: two operations, memory-bound. Without one,
  // (1 - y) * y: 1 - y is exact for y >= 1/2, one more rounding below.
  template <class V>
  V backward_from_y(const V& y, const V& dy) const noexcept {
#if XACT_HAS_FMA
    return dy * simd::fma(-y, y, y);
#else
    return dy * ((V(1) - y) * y);
#endif
  }

  // dy e / (1 + e)^2 with e = e^-|x|: the numerator dy*e and the denominator (h + l)^2 kept
  // exact to twice the working precision, one correction step, one final rounding.
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V e = math::exp(-simd::abs(x));
    V l;
    const V h = simd::fast_two_sum(V(1), e, l);
    V de;
    const V d = simd::two_prod(h, h, de);  // (h + l)^2 = d + de + 2hl (+ l^2, negligible)
    de = simd::fma(V(2) * h, l, de);
    // |dy| > 2^64 (rare): scaled down first so that no error term of dy*e overflows, scaled
    // back at the end (exact, or the true overflow).
    const auto big = simd::abs(dy) > V(S(0x1p64));
    const V dys = simd::select(big, dy * V(S(0x1p-64)), dy);
    V ne;
    const V n = simd::two_prod(dys, e, ne);
    const V rd = V(1) / d;
    const V q0 = n * rd;
    // Residual n + ne - q0 (d + de): a correction of about an ulp of q0, rounded (see div_hl).
    const V res = simd::fma(-q0, de, residual(q0, d, n) + ne);
    V out = simd::fma(res, rd, q0);
    // dy = +-inf: the error terms are inf - inf (NaN); the product itself is the answer.
    out = simd::select(simd::abs(n) == V(std::numeric_limits<S>::infinity()), n * rd, out);
    return simd::select(big, out * V(S(0x1p64)), out);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact
