// Swish   y = x s(beta x), s the logistic sigmoid       (beta: finite, any sign; SiLU at 1)
//   forward        t = beta x (kept exact as t + tl), e = e^-|t| in (0, 1]:
//                  y = x / (1 + e) for t >= 0,   x e / (1 + e) for t < 0.
//                  e is never taken of a positive number. For t < 0 the product x e is formed
//                  on e's mantissa (e = (hi + lo) 2^k, detail::exp_split), divided by 1 + e
//                  (kept exact as h + l) with one correction step, and only then scaled by 2^k:
//                  so a result that is normal is never built from a subnormal e (swish(-100) =
//                  -3.7e-42 in float, with full accuracy), down into the subnormals. |x| >=
//                  2^64 (2^512) is pre-scaled so that x e^-|t| stays exact when beta is tiny.
//   backward_from_x   dx = dy f'(x), f' = s + t s(1 - s) = s (1 + t c), c = 1 - s    reads x
//                  s, c = 1/(1 + e) and e/(1 + e) (by the side of t), all in double-word
//                  arithmetic; 1 + t c is a TwoSum, so f' keeps its relative accuracy next to
//                  its zero (t ~ -1.2785): no absolute floor is needed (the tests use none).
//                  f' is scaled by 2^k as a value, then multiplied by dy.
//   backward_param_from_x   the same dx, and d(beta) += dy x^2 s(1 - s) (xact::
//                  backward_with_param sums it with compensated summation over the array).
//   Values: swish(-inf) = -0 (beta > 0), swish(+inf) = +inf, swish(+-0) = +-0, NaN propagates;
//   f'(+inf) = 1, f'(-inf) = 0 (beta > 0); beta = 0 gives x/2 everywhere, infinities
//   included; beta < 0 mirrors the curve (swish(+inf) = +0, swish(-inf) = -inf).
//   Below |t| ~ 150 (float) / 1100 (double) the derivative factors f' and x^2 s(1 - s) are
//   formed as values, so they flush to 0 where they fall below the smallest subnormal (then dy f'
//   is 0 even for a huge dy).
//   Error (strict ULP, exhaustive float walk / sampled doubles; bounds registered in
//   tests/test_swish.cpp): beta = 1: forward float 1, double 1; backward_from_x float 2,
//   double 2.
#pragma once

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "x_min_exp.hpp"

namespace xact {

struct swish {
  double beta = 1;

  swish() = default;
  explicit swish(double b) : beta(b) {
    if (!std::isfinite(beta))
      throw std::invalid_argument("xact::swish: beta must be finite, got " + std::to_string(beta));
  }

 private:
  // x clamped to the finite range (NaN kept), xs = xc scaled by 2^-120 (2^-1000) where
  // |x| >= 2^64 (2^512), and t = beta x = th + tl exactly: the product is taken on xs and scaled
  // back (exact), so that Dekker's split (builds without an fma) cannot overflow on a huge x.
  // tl is 0 where it is not meaningful: |t| beyond `lim` (e^-|t| has underflowed anyway),
  // t = +-inf, or a split that still overflowed (|beta| > 2^100: then tl is lost, baseline only).
  template <class V>
  void reduce(const V& x, V& xc, V& xs, V& th, V& tl, const V& lim) const noexcept {
    using S = simd::scalar_t<V>;
    constexpr bool F = sizeof(S) == 4;
    xc = simd::max(V(std::numeric_limits<S>::lowest()),
                   simd::min(V(std::numeric_limits<S>::max()), x));
    const auto isbig = simd::abs(xc) >= V(F ? S(0x1p64) : S(0x1p512));
    xs = xc * simd::select(isbig, V(F ? S(0x1p-120) : S(0x1p-1000)), V(1));
    const V up = simd::select(isbig, V(F ? S(0x1p120) : S(0x1p1000)), V(1));
    th = simd::two_prod(V(static_cast<S>(beta)), xs, tl);
    th = th * up;
    tl = tl * up;
    tl = simd::select(simd::abs(th) <= lim, simd::select(tl == tl, tl, V(0)), V(0));
  }

  // e^a (1 + d) = (hi + lo) 2^kf for a <= 0 and a tiny correction d.
  template <class V>
  static V exp_corrected(const V& a, const V& d, V& lo, V& kf) noexcept {
    V pl;
    const V ph = detail::exp_split(a, pl, kf);
    lo = simd::fma(ph, d, pl);
    return ph;
  }

 public:
  template <class V>
  V forward(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    constexpr bool F = sizeof(S) == 4;
    // |x| >= big is scaled by 2^-sh (exact) before it multiplies e's mantissa.
    const V big = V(F ? S(0x1p64) : S(0x1p512));
    const V sh = V(F ? S(120) : S(1000));
    // Where x e^-|t| < 2^-151 for sure: |x| < 2^64 and |t| > 150, or any x and |t| > 194
    // (float); 1102 and 1458 for double. Clamping there keeps k in scale2's range.
    const V lim_small = V(F ? S(150) : S(1102));
    const V lim_big = V(F ? S(194) : S(1458));
    V xc, t, tl;
    V xs;
    reduce(x, xc, xs, t, tl, lim_big);
    const auto isbig = simd::abs(xc) >= big;
    const auto pos = t >= V(0);  // false for NaN: NaN takes the t < 0 path and propagates
    const V a = simd::max(-simd::select(isbig, lim_big, lim_small), -simd::abs(t));
    V pl, kf;
    // e^-|t + tl| = e^-|t| (1 - sign(t) tl)
    const V ph = exp_corrected(a, -simd::xorsign(tl, t), pl, kf);
    // e itself only matters against 1: its exponent is clamped into scale2's range.
    const V ke = simd::max(kf, V(F ? S(-250) : S(-2000)));
    const V eh = detail::scale2(ph, ke);
    const V h = V(1) + eh;
    const V l = (eh - (h - V(1))) + detail::scale2(pl, ke);  // Fast2Sum: 1 >= eh
    // Numerator: x (t >= 0) or x e's mantissa, exact as nh + nl.
    V nl;
    const V nh0 = simd::two_prod(xs, ph, nl);
    const V nh = simd::select(pos, x, nh0);
    nl = simd::select(pos, V(0), simd::fma(xs, pl, nl));
    const V kq = simd::select(pos, V(0), kf + simd::select(isbig, sh, V(0)));
    // (nh + nl) / (h + l): one correction step; the residual is exact up to nl and l's terms.
    const V rh = V(1) / h;
    const V q0 = nh * rh;
    V pe;
    const V p = simd::two_prod(q0, h, pe);
    const V res = (((nh - p) - pe) + nl) - q0 * l;
    // res is NaN only when q0 is +-inf (x = +-inf with t >= 0) or NaN: q0 is then the answer.
    // (res == res, not simd::isnan: xsimd 8.1's AVX operator!= is ordered, NaN != NaN false.)
    // nh = +-0 keeps its sign (res = +0 would turn -0 into +0).
    const V q = simd::select(res == res, simd::select(nh == V(0), q0, simd::fma(res, rh, q0)), q0);
    return detail::scale2(q, kq);
  }

 private:
  // f' as a function of t, phi(t) = s(t) + t s(t)(1 - s(t)) = d/dt (t s(t)), has one zero, at
  // t0 = -1.2784645427610738 (t0 = -1 - e^t0). Near it the general formula's 1 + t c cancels
  // and f' would inherit e^-|t|'s absolute error (~2^-27 in float) as a relative error. For
  // |t - t0| < 1/4, phi is its Taylor polynomial at t0 instead, in dt = t - t0 kept as
  // dth + dtl (dth exact by Sterbenz); the coefficients phi^(k)(t0)/k! come from
  // phi^(k) = t s^(k+1) + (k + 1) s^(k), with s^(n) a polynomial in s (s' = s(1 - s)), evaluated
  // in 60-digit decimal arithmetic. Degree 8 (float) / 16 (double): the first omitted term is
  // below 2^-28 / 2^-57 of phi on the interval. c1 is split in two for the last step.
  template <class V>
  static V phi_near_zero(const V& th, const V& tl) noexcept {
    using S = simd::scalar_t<V>;
    V dth, dtl, c1h, c1l, q;
    if constexpr (sizeof(S) == 4) {
      dth = th - V(-0x1.474974p+0f);
      dtl = tl - V(0x1.bdf6fap-27f);
      c1h = V(0x1.be1410p-3f);
      c1l = V(0x1.1814a0p-29f);
      q = V(0x1.8574d2p-13f);
      q = simd::fma(q, dth, V(0x1.a2a7cap-11f));
      q = simd::fma(q, dth, V(0x1.098e92p-13f));
      q = simd::fma(q, dth, V(-0x1.b0f82cp-8f));
      q = simd::fma(q, dth, V(-0x1.f2d0e4p-7f));
      q = simd::fma(q, dth, V(0x1.353eb6p-6f));
      q = simd::fma(q, dth, V(0x1.2c5634p-3f));
    } else {
      dth = th - V(-0x1.474973c84120bp+0);
      dtl = tl - V(-0x1.f8d74bc9ac154p-54);
      c1h = V(0x1.be1410460527fp-3);
      c1l = V(-0x1.2541062177473p-58);
      q = V(-0x1.4450a9df8b6aep-26);
      q = simd::fma(q, dth, V(-0x1.8dffda8a766aap-24));
      q = simd::fma(q, dth, V(-0x1.061994e63271cp-25));
      q = simd::fma(q, dth, V(0x1.cdb14ef8f6491p-21));
      q = simd::fma(q, dth, V(0x1.3ae0f751df483p-19));
      q = simd::fma(q, dth, V(-0x1.8af40fd30a2bcp-19));
      q = simd::fma(q, dth, V(-0x1.f2d8976600f6fp-16));
      q = simd::fma(q, dth, V(-0x1.57238dca12615p-15));
      q = simd::fma(q, dth, V(0x1.8574d136d4cb4p-13));
      q = simd::fma(q, dth, V(0x1.a2a7caf0ee747p-11));
      q = simd::fma(q, dth, V(0x1.098e92b8f076dp-13));
      q = simd::fma(q, dth, V(-0x1.b0f82c498fd2fp-8));
      q = simd::fma(q, dth, V(-0x1.f2d0e32bc2994p-7));
      q = simd::fma(q, dth, V(0x1.353eb573ca457p-6));
      q = simd::fma(q, dth, V(0x1.2c563458cc0adp-3));
    }
    // phi(dth + dtl) = dth c1h + [dth (c1l + dth q) + dtl phi'(dth)], phi'(dth) ~ c1 + 2 dth q:
    // one final rounding of a dominant exact product.
    const V r = simd::fma(dth, q, c1l);
    return simd::fma(dth, c1h, simd::fma(dth, r, dtl * simd::fma(V(2) * dth, q, c1h)));
  }

  // f'(x) as a value, and (for the parameter gradient) x s(1 - s) as a value; both read x only.
  template <class V, bool Param>
  V derivative(const V& x, V& xsc, V& t) const noexcept {
    using S = simd::scalar_t<V>;
    const V lim = V(sizeof(S) == 4 ? S(150) : S(1100));
    V xc, tl;
    V xs;
    reduce(x, xc, xs, t, tl, lim);
    const auto pos = t >= V(0);
    const V tc = simd::max(-lim, simd::min(lim, t));  // NaN kept
    V pl, kf;
    const V ph = exp_corrected(-simd::abs(tc), -simd::xorsign(tl, t), pl, kf);
    const V eh = detail::scale2(ph, kf);
    const V h = V(1) + eh;
    const V l = (eh - (h - V(1))) + detail::scale2(pl, kf);
    // D = 1 / (h + l) = dh + dl
    const V dh = V(1) / h;
    V pe;
    const V p = simd::two_prod(dh, h, pe);
    const V dl = (((V(1) - p) - pe) - dh * l) * dh;
    // c = 1 - s: e D for t >= 0 (g >= 1 there: one rounding is enough), D below.
    const V ch = simd::select(pos, eh * dh, dh);
    const V cl = simd::select(pos, V(0), dl);
    // g = 1 + t c, TwoSum: exact near its zero.
    V me;
    const V m = simd::two_prod(tc, ch, me);
    me = simd::fma(tc, cl, simd::fma(tl, ch, me));
    const V gh = V(1) + m;
    const V bv = gh - V(1);
    const V gl = ((V(1) - (gh - bv)) + (m - bv)) + me;
    // s's mantissa: D (t >= 0) or (ph + pl) D, scaled by 2^k below.
    V se;
    const V sh0 = simd::two_prod(ph, dh, se);
    se = simd::fma(ph, dl, simd::fma(pl, dh, se));
    const V smh = simd::select(pos, dh, sh0);
    const V sml = simd::select(pos, dl, se);
    V fe;
    const V fh = simd::two_prod(smh, gh, fe);
    const V fm = fh + simd::fma(smh, gl, simd::fma(sml, gh, fe));
    if constexpr (Param) {
      // x s (1 - s) = x (ph + pl) 2^k D^2 on both sides; 0 beyond the clamp (exactly where
      // x^2 s(1 - s) < 2^-151 unless |beta| is below ~1e-12).
      const V w = detail::scale2(xc * ((ph + pl) * dh) * dh, kf);
      xsc = simd::select(simd::abs(t) > lim, V(0), w);
    }
    const V general = detail::scale2(fm, simd::select(pos, V(0), kf));
    return simd::select(simd::abs(t - V(S(-1.2784645))) < V(S(0.25)), phi_near_zero(t, tl),
                        general);
  }

 public:
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    V unused, t;
    return dy * derivative<V, false>(x, unused, t);
  }

  // dx as backward_from_x; dparam = dy x^2 s(beta x)(1 - s(beta x)), the term of d(beta).
  template <class V>
  V backward_param_from_x(const V& x, const V& dy, V& dparam) const noexcept {
    V xsc, t;
    const V d = derivative<V, true>(x, xsc, t);
    using S = simd::scalar_t<V>;
    const V xc = simd::max(V(std::numeric_limits<S>::lowest()),
                           simd::min(V(std::numeric_limits<S>::max()), x));
    dparam = (xsc * xc) * dy;
    return dy * d;
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact
