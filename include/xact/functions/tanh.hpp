// tanh   y = (e^x - e^-x) / (e^x + e^-x)
//   forward        tanh|x| = (1 - e) / (1 + e) with e = e^-2|x| in (0, 1], sign of x put back:
//                  e^ is only taken of a non-positive number (nothing overflows). e = 2^k (1 + p)
//                  with p = e^r - 1 = r + r^2 q(r) (math::exp's reduction and polynomial, r's
//                  rounding error kept), so 1 - e and 1 + e are each formed as a head + tail
//                  pair without rounding p: for small |x| (k = 0) the numerator is -p itself,
//                  with no cancellation (tanh x ~ x down to the subnormals), and the quotient
//                  gets one correction step against the pairs, so the errors left are the
//                  polynomial's and the last rounding.
//   backward_from_y   dx = dy (1 - y)(1 + y)     1 - y*y by one fma, then * dy            reads y
//   backward_from_x   dx = dy 4e / (1 + e)^2     compensated like sigmoid's               reads x
//                  1 - y^2 from y cancels for large |x| (y rounds to +-1 at |x| ~ 9 in float);
//                  from x the derivative stays accurate to e^-2|x|.
//   Values: tanh(+-0) = +-0, tanh(+-inf) = +-1, NaN propagates; |tanh x| <= 1 for every x.
//   Error (strict ULP): forward float <= 1 over all 2^32 floats, double <= 1 (2^20 sampled);
//   backward_from_x float <= 2 over all 2^32 floats, double <= 2; backward_from_y <= 2 (1 with an
//   fma). The same in the baseline (SSE2, no fma) build on the strided walk.
#pragma once

#include "../core/math.hpp"

namespace xact {

struct tanh {
  template <class V>
  V forward(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    using I = simd::int_t<V>;
    using C = math::detail::exp_constants<S>;
    // Below -2|x| = lo, e < 2^-57 (float) / 2^-115 (double): tanh is 1 rounded either way, and
    // 2^k stays a normal number.
    const V lo = V(sizeof(S) == 4 ? S(-40) : S(-80));
    const V z = V(-2) * simd::abs(x);
    const V zn = simd::max(lo, z);  // keeps NaN (flows into r)
    const V zk = simd::max(z, lo);  // drops NaN (k is read from it)
    // z = k ln2 + r + rl (rl: r's rounding error), e = 2^k (1 + r + c), c = e^(r + rl) - 1 - r.
    const V tk = simd::opaque(simd::fma(zk, V(C::log2e), V(C::round_magic)));
    const V kf = tk - V(C::round_magic);
    const I k = simd::to_bits(tk) - simd::to_bits(V(C::round_magic));
    const V rh = simd::fma(-kf, V(C::ln2_hi), zn);  // exact: k ln2_hi has few bits
    V rl;
    const V r = simd::fast_two_sum(rh, -(kf * V(C::ln2_lo)), rl);
    const V c = simd::fma(r * r, math::detail::exp_poly_q(r), simd::fma(rl, r, rl));
    const V s = math::detail::pow2i<V>(k);  // 2^k, k in [-58, 0]
    // 1 - e = (1 - 2^k) - 2^k r - 2^k c and 1 + e = (1 + 2^k) + 2^k r + 2^k c: 1 -+ 2^k are exact
    // while e is above the last bit, 2^k r and 2^k c are exact; the first two terms are summed
    // exactly (Fast2Sum: |1 - 2^k| >= |2^k r| or 1 - 2^k = 0; 1 + 2^k >= |2^k r|) and the small
    // third joins the tails. No rounding of e - 1 itself: for small |x| the numerator is -r - c.
    const V sr = s * r;
    const V sc = s * c;
    // 1 -+ 2^k as head + tail (they round once 2^k is below the last bit: double, |x| > 18.4).
    V al, bl, nl, dh, dl;
    const V a = simd::fast_two_sum(V(1), -s, al);
    const V b = simd::fast_two_sum(V(1), s, bl);
    const V n = simd::fast_two_sum(a, -sr, nl);
    const V d0 = simd::fast_two_sum(b, sr, dh);
    nl = (nl + al) - sc;
    // d + dl renormalized (|dl| <= ulp(d)/2): the correction below divides by d alone.
    const V d = simd::fast_two_sum(d0, (dh + bl) + sc, dl);
    // (n + nl) / (d + dl): q0 from the reciprocal, one correction step with the exact residual.
    const V rd = V(1) / d;
    const V q0 = n * rd;
    V pe;
    const V pp = simd::two_prod(q0, d, pe);
    const V res = (((n - pp) - pe) + nl) - q0 * dl;
    const V y = simd::fma(res, rd, q0);
    return simd::xorsign(y, x);  // y >= +0 (or NaN): the sign of x
  }

  // dy (1 - y^2): with an fma, 1 - y*y rounded once (correctly rounded, no cancellation near
  // |y| = 1), then the product: two operations, memory-bound. Without one, (1 - y)(1 + y):
  // each factor exact where it matters (|y| >= 1/2), one more rounding below.
  template <class V>
  V backward_from_y(const V& y, const V& dy) const noexcept {
#if XACT_HAS_FMA
    return dy * simd::fma(-y, y, V(1));
#else
    return dy * ((V(1) - y) * (V(1) + y));
#endif
  }

  // dy 4e / (1 + e)^2 with e = e^-2|x|, 1 + e = h + l exactly: the numerator and the
  // denominator kept to twice the working precision, one correction step, one final rounding
  // (as sigmoid's backward). The 4: where 4e is a normal number it goes into the denominator,
  // dy e / (h/2 + l/2)^2, so that dy * 4 never overflows; where it is tiny, 4e comes from
  // exp_scaled, rounded once (e itself would already have lost bits in the subnormals) and
  // the denominator is 1.
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V e4 = math::exp_scaled<2>(V(-2) * simd::abs(x));
    const V e = V(0.25) * e4;
    const auto tiny = e4 < V(sizeof(S) == 4 ? S(0x1p-100f) : S(0x1p-1000));
    const V half = simd::select(tiny, V(1), V(0.5));
    V l;
    const V h = simd::fast_two_sum(V(1), e, l);
    const V hh = half * h;
    const V hl = half * l;
    V de;
    const V d = simd::two_prod(hh, hh, de);  // (hh + hl)^2 = d + de + 2 hh hl (+ hl^2)
    de = simd::fma(V(2) * hh, hl, de);
    V ne;
    const V n = simd::two_prod(dy, simd::select(tiny, e4, e), ne);
    const V rd = V(1) / d;
    const V q0 = n * rd;
    V pe;
    const V p = simd::two_prod(q0, d, pe);
    const V res = (((n - p) - pe) + ne) - q0 * de;
    return simd::fma(res, rd, q0);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact
