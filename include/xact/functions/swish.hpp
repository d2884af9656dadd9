// Swish   y = x s(beta x), s the logistic sigmoid       (beta: finite, any sign; SiLU at 1)
//   forward        t = beta x, kept exact as -|t| = a + al; e = e^-|t| in (0, 1]:
//                  y = x / (1 + e) for t >= 0,   x e / (1 + e) for t < 0,
//                  i.e. y = x S with S = num / (1 + e), num = 1 or e. e is never taken of a
//                  positive number.
//   backward_from_x   dx = dy f'(x), f' = s + t s(1 - s) = s (1 + t c), c = 1 - s    reads x
//                  s and c as double-word values, 1 + t c by an exact product and Fast2Sum,
//                  so f' keeps its relative accuracy next to its zero (t ~ -1.2785; within 1/4
//                  of it, a Taylor polynomial in t - t0): no absolute floor (the tests use none).
//   backward_param_from_x   the same dx, and d(beta) += dy x^2 s(1 - s) (xact::
//                  backward_with_param sums it with compensated summation over the array).
//   Two paths per batch, bit-identical where both apply (a lane never depends on its
//   neighbours): when every lane has |t| <= 64 (float) / 640 (double), e = (1 + s) 2^k is
//   scaled once, exactly, as the value eh plus its rounding error el (normal numbers there);
//   y is one quotient N / D, N = x num kept exact (nh + nl), D = 1 + e (dh + dl), y0 = nh / dh
//   and one correction by the exact excess y0 D - N, rounded once. The t < 0 / t >= 0 choices
//   are blends on the sign bit of x (or of t; simd::select_sign, no compare: at t = +-0 both
//   choices agree), and e^r - 1 for float is a fitted degree-6 polynomial (exp_s). The
//   backward's s = num / (1 + e) is q0 + q1 the same way (sig_hl).
//   Otherwise (a lane beyond, inf, NaN) the general path computes the same for the lanes in
//   range and, beyond: y = x for t > 64 (e < 2^-92 is below half an ulp), and for t < -64,
//   y = x e^t (1/(1 + e) = 1 to 2^-92) as x (1 + s) rounded once, e^t = (1 + s) 2^k, then
//   scaled by 2^k (math::detail::scale_rounded, no subnormal arithmetic): a result that is
//   normal is never built from a subnormal e (swish(-100) = -3.7e-42 in float, full accuracy),
//   down into the subnormals; a group whose every lane is there computes that alone (subnormal
//   results ran 1.9-2.1x the normal time with the former double-word form). |x| >= 2^64
//   (2^512) takes the double-word form (e = (hi + lo) 2^k, detail::exp_split), pre-scaled so
//   that x e^-|t| stays exact when beta is tiny. The derivative beyond: 1
//   for t > 64, e^t (1 + t) for t < -64. Flush-to-zero / denormals-are-zero (MXCSR): the fast
//   path's limit keeps e's error terms (el, Dekker's halves without an fma) and the result's
//   (~2^-24 of y) normal for |beta| up to ~5e4 (float) / 4e16 (double), so a normal result keeps
//   its bound in these modes too (tests: test_swish FlushToZero*, test_denormals); with a larger
//   |beta| a result below 2^-100 (2^-960) may lose its correction in these modes (~1 ulp more).
//   Values: swish(-inf) = -0 (beta > 0), swish(+inf) = +inf, swish(+-0) = +-0, NaN propagates;
//   f'(+inf) = 1, f'(-inf) = 0 (beta > 0); beta = 0 gives x/2 everywhere, infinities
//   included; beta < 0 mirrors the curve (swish(+inf) = +0, swish(-inf) = -inf).
//   The backward's tail (t < -64) keeps f' as a significand and an exponent and rounds dy f'
//   once (math::detail::mul_scaled): a large dy (loss scaling) brings an f' from far below the
//   normal range back into it with full accuracy. The d(beta) factor x^2 s(1 - s) is formed as
//   a value below |t| ~ 150 (float) / 1100 (double), so it flushes to 0 where it falls below the
//   smallest subnormal (then its dy term is 0 even for a huge dy).
//   Error (strict ULP, exhaustive float walk / sampled doubles; bounds registered in
//   tests/test_swish.cpp): beta = 1: forward float 1, double 1; backward_from_x float 2,
//   double 2.
#pragma once

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "sigmoid.hpp"
#include "x_min_exp.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

struct swish {
  // The drivers may run this code on simd::wide (several batches at once; core/elementwise.hpp).
  static constexpr bool simd_wide = true;
  static constexpr std::size_t simd_group = 2;  // two batches at once: faster than four here

  double beta = 1;

  swish() = default;
  explicit swish(double b) : beta(b) {
    if (!std::isfinite(beta))
      throw std::invalid_argument("xact::swish: beta must be finite, got " + std::to_string(beta));
  }

 private:
  // The fast path's |t| limit: e >= e^-64 > 2^-93 (e^-640 > 2^-924), so e, 2^k, e's rounding
  // error el (>= 2^-24 e where it matters) and the corrections of y = x e / (1 + e) (|x| >=
  // 64 / |beta|) stay normal numbers: flush-to-zero does not drop them (it dropped el and
  // Dekker's low half of e near the former limit, 82: up to ~1400 ulp on the SSE2 build).
  template <class V>
  static constexpr simd::scalar_t<V> lim() noexcept {
    return sizeof(simd::scalar_t<V>) == 4 ? simd::scalar_t<V>(64) : simd::scalar_t<V>(640);
  }

  // t >= 0, from x's sign and beta's (one compare; t = +-0 counts as >= 0, NaN as < 0). For
  // beta = 0 the mask does not matter (e = 1, el = 0).
  template <class V>
  auto positive(const V& x) const noexcept {
    return beta >= 0 ? (x >= V(0)) : (x <= V(0));
  }

  // -|t| = a + al exactly, as |beta| (-|x|) (an fma gives the error term). Without an fma,
  // Dekker's split could overflow on a huge x: |x| >= 2^64 (2^512) is scaled by 2^-120 (2^-1000)
  // first and back after (exact), and a split that still overflowed (|beta| > 2^100) leaves
  // al = 0.
  template <class V>
  void split_t(const V& x, V& xn, V& a, V& al) const noexcept {
    using S = simd::scalar_t<V>;
    const V b = V(std::abs(static_cast<S>(beta)));
    xn = -simd::abs(x);
    if (beta == 1) {  // SiLU: a = xn, al = 0, what the products below give (two operations less)
      a = xn;
      al = V(0);
      return;
    }
#if XACT_HAS_FMA
    a = simd::two_prod(b, xn, al);
#else
    constexpr bool F = sizeof(S) == 4;
    const auto isbig = xn <= V(F ? S(-0x1p64) : S(-0x1p512));
    const V xs = xn * simd::select(isbig, V(F ? S(0x1p-120) : S(0x1p-1000)), V(1));
    const V up = simd::select(isbig, V(F ? S(0x1p120) : S(0x1p1000)), V(1));
    a = simd::two_prod(b, xs, al);
    a = a * up;
    al = al * up;
    al = simd::select(al == al, al, V(0));
#endif
  }

  // v a + c with the product exact and one rounding (an fma; without one, Dekker's product).
  template <class V>
  static V fma_exact(const V& v, const V& a, const V& c) noexcept {
#if XACT_HAS_FMA
    return simd::fma(v, a, c);
#else
    V e;
    const V p = simd::two_prod(v, a, e);
    return p + (e + c);
#endif
  }

  // |beta| log2e: k is taken from -|x| |beta| log2e, off the chain of a = |beta| (-|x|).
  template <class V>
  V blog2e() const noexcept {
    using S = simd::scalar_t<V>;
    return V(std::abs(static_cast<S>(beta)) * math::detail::exp_constants<S>::log2e);
  }

  // e^(a + al) for -lim <= a <= 0 (a = |beta| xn) as eh + el: eh = (1 + s) 2^k rounded (a
  // normal number: fma(s, 2^k, 2^k) is (1 + s) rounded, scaled exactly), el its rounding error
  // (s - (eh 2^-k - 1)) 2^k, exact: 2^k - eh is exact by Sterbenz (1 + s in [0.7, 1.42]).
  // s = e^r - 1 (r = a + al - k ln2, math::exp's reduction, k from k_arg k_mul) and tk = magic
  // + k, as detail::exp_fast_s; for float exp's fitted degree-6 polynomial
  // (math::detail::exp_poly_fit: 3.8e-9 = 2^-28 relative, against s's own rounding of up to
  // 2^-26.3; one fma less than the Taylor polynomial of degree 8), evaluated in Estrin form.
  template <class V>
  V exp_s(const V& xn, const V& bl, const V& a, const V& al, V& tk) const noexcept {
    using S = simd::scalar_t<V>;
    if constexpr (sizeof(S) == 8) {
      // SiLU: al = 0, and r = fnma(k, ln2_lo, rh) in one operation.
      return beta == 1 ? detail::exp_fast_s(a, tk) : detail::exp_fast_s(xn, bl, a, al, tk);
    } else {
      using C = math::detail::exp_constants<S>;
      tk = simd::opaque(simd::fma(xn, bl, V(C::round_magic)));
      const V kf = tk - V(C::round_magic);
      const V rh = simd::opaque(simd::fnma(kf, V(C::ln2_hi), a));  // exact
      const V r = beta == 1 ? simd::fnma(kf, V(C::ln2_lo), rh)     // SiLU: al = 0
                            : rh + simd::fnma(kf, V(C::ln2_lo), al);
      const V r2 = r * r;
      // e^r = 1 + r + r^2 (c2 + c3 r + r^2 (c4 + c5 r + c6 r^2)), Estrin, with exp's fitted
      // coefficients (math::detail::exp_fit_float).
      using F = math::detail::exp_fit_float;
      const V lo = simd::fma(V(F::c3), r, V(F::c2));
      const V hi = simd::fma(V(F::c6), r2, simd::fma(V(F::c5), r, V(F::c4)));
      return simd::fma(r2, simd::fma(hi, r2, lo), r);
    }
  }

  template <class V>
  V exp_hl(const V& xn, const V& bl, const V& a, const V& al, V& el) const noexcept {
    V tk;
    const V s = XACT_OPQ(exp_s(xn, bl, a, al, tk));
    const V sc = detail::pow2k(tk);
    const V eh = simd::opaque(simd::fma(s, sc, sc));
    // Without an fma, -ffast-math made s sc + (sc - eh) (exact) into (s sc + sc) - eh = 0.
    el = simd::fma(s, sc, XACT_OPQ(sc - eh));
    return eh;
  }

  // tneg where t < 0, tpos where t > 0, from x's sign bit (one blend, no compare: beta's sign
  // is known). At t = +-0 (x = +-0, or beta = 0) the caller's two values agree.
  template <class V>
  V pick(const V& x, const V& tneg, const V& tpos) const noexcept {
    return beta >= 0 ? simd::select_sign(x, tneg, tpos) : simd::select_sign(x, tpos, tneg);
  }

  // s(t) = q0 + q1 (double-word) from e = eh + el = e^-|t|: q0 = num / (1 + eh) with num = 1
  // (t >= 0) or eh; the residual num + numl - q0 (1 + eh + el) (numl = el for t < 0) is
  // (num - q0) - q0 eh (num - q0 exact by Sterbenz, num/2 <= q0 <= num; one fnma) plus
  // el (numl/el - q0), and q1 = residual / (1 + e), with 1/(1 + e) = q0 (t >= 0) or 1 - q0
  // to an ulp or so (it only scales a correction). omq = 1 - q0 (exact for t >= 0).
  // sig_hl returns q0 and the residual res (q1 = res rcp, rcp = 1/(1 + e) to an ulp or so).
  // The t < 0 / t >= 0 choices read the sign bit of th = t (one blend each); at t = +-0 e = 1,
  // el = 0 and q0 = 1/2 = omq, so both choices agree.
  template <class V>
  static V sig_hl(const V& eh, const V& el, const V& th, V& res, V& rcp, V& omq) noexcept {
    const V num = simd::select_sign(th, eh, V(1));
    const V q0 = simd::div(num, V(1) + eh);
    omq = V(1) - q0;
    // el (numl/el - q0) = fnma(q0, el, numl), off the chain of q0's residual.
    const V u = simd::fnma(q0, el, simd::select_sign(th, el, V(0)));
    res = simd::residual(q0, eh, num - q0) + u;
    rcp = simd::select_sign(th, omq, q0);
    return q0;
  }

  // The forward for lanes with |t| <= lim, as one quotient N / D: N = x num = nh + nl (x, or
  // x e kept exact), D = 1 + e = dh + dl (Fast2Sum, e <= 1). y0 = nh / dh, then one correction
  // by the exact excess y0 D - N, scaled by 1/(1 + e) ~ (16 - 8e)/17 (within 6%: it only scales
  // a correction of an ulp or so, so it costs < 0.06 ulp). Written so that the division's result
  // feeds three operations only (the path is latency-bound), and y0 - (+0) keeps the sign of y(-0)
  // = -0.
  template <class V>
  V forward_core(const V& x, const V& xn, const V& bl, const V& a, const V& al) const noexcept {
    using S = simd::scalar_t<V>;
    V el;
    const V eh = exp_hl(xn, bl, a, al, el);
    // t = +-0: e = 1, el = 0, so both picks agree.
    const V numh = pick(x, eh, V(1));
    const V nh = x * numh;
    const V nl = simd::fma(x, pick(x, el, V(0)), simd::excess(x, numh, nh));
    const V dh = XACT_OPQ(V(1) + eh);
    const V dl = XACT_OPQ(eh - simd::opaque(dh - V(1))) + el;
    const V y0 = simd::div(nh, dh);
    const V rcp = simd::fma(eh, V(S(-0x1.e2p-2)), V(S(0x1.e2p-1)));
    const V ex = simd::excess(y0, dh, nh) + simd::excess(y0, dl, nl);
    return simd::fnma(ex, rcp, y0);
  }

  // The general path: any x, bit for bit the fast path's result where |t| <= lim.
  template <class V>
  XACT_COLD V forward_general(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    if (beta == 0) return x * V(S(0.5));  // the fast path's result for every finite x, too
    const V xc = clamp_finite(x);
    V xn, a, al;
    split_t(xc, xn, a, al);
    const auto in = a >= V(-lim<V>());
    const V bl = blog2e<V>();
    const V xni = simd::select(in, xn, V(0)), ai = simd::select(in, a, V(0));
    const V ali = simd::select(in, al, V(0));
    const V out = forward_out(x);
    // No lane in range (a batch of tiny or saturated results): the core skipped.
    if (!simd::any(in)) return out;
    V core = forward_core(x, xni, bl, ai, ali);
#if !XACT_HAS_FMA
    {
      // Dekker's product in fma_exact needs |x| < 2^100 (2^900): scaled by 2^-64 and back
      // (exact: the result is normal, |x q0| >= 2^36 e^-lim / 2).
      constexpr bool F = sizeof(S) == 4;
      const auto huge = simd::abs(x) > V(F ? S(0x1p100) : S(0x1p900));
      const V xs = x * simd::select(huge, V(S(0x1p-64)), V(1));
      const V hc = forward_core(xs, xni, bl, ai, ali);
      core = simd::select(huge, hc * V(S(0x1p64)), core);
    }
#endif
    return simd::select(in, core, out);
  }

  // x clamped to the finite range (+-inf to +-max), NaN kept: the general paths' input.
  template <class V>
  static V clamp_finite(const V& x) noexcept {
    using S = simd::scalar_t<V>;
    return simd::max(V(std::numeric_limits<S>::lowest()),
                     simd::min(V(std::numeric_limits<S>::max()), x));
  }

  // The general path's lanes out of the core's range (|t| > lim, or NaN), beta != 0: x for
  // t > lim, x e^t below. |x| < 2^64 (2^512): forward_tail, the common case (a group of tiny
  // or subnormal results computes it alone); beyond, forward_big.
  template <class V>
  V forward_out(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V xc = clamp_finite(x);
    V xn, a, al;
    split_t(xc, xn, a, al);
    const auto isbig = simd::abs(xc) >= V(sizeof(S) == 4 ? S(0x1p64) : S(0x1p512));
    // (A big lane's tail input is replaced by 0: forward_tail's scaling wants |x| < 2^100.)
    const V tail = !simd::any(isbig)
                       ? forward_tail(xc, a, al)
                       : simd::select(isbig, forward_big(xc, a, al),
                                      forward_tail(simd::select(isbig, V(0), xc), a, al));
    // t > lim: x (1 - e) rounds to x. NaN: positive is false, the tail is NaN.
    return simd::select(positive(x), x, tail);
  }

  // t < -lim, |x| < 2^64 (2^512) (or NaN): y = x e^t (1/(1 + e) = 1 to 2^-92 / 2^-924), with
  // e^t = (1 + s) 2^k from t = a + al (detail::exp_fast_s: k from a log2e, the reduction exact
  // for |k| < 2^8 / 2^20): x (1 + s) rounded once (an fma), then 2^k applied by scale_rounded
  // (once more into the subnormals, without subnormal arithmetic), as x_min_exp's tail. a is
  // clamped at -150 (-1102), where |x| e^a < 2^64 2^-216 (2^512 2^-1589) rounds to 0 either
  // way; the clamp also keeps a NaN out of k.
  template <class V>
  static V forward_tail(const V& x, const V& a, const V& al) noexcept {
    using S = simd::scalar_t<V>;
    const V lo = V(sizeof(S) == 4 ? S(-150) : S(-1102));
    const auto in = a >= lo;  // false for NaN
    const V at = simd::select(in, a, lo);
    V tk;
    const V s = detail::exp_fast_s(at, V(math::detail::exp_constants<S>::log2e), at,
                                   simd::select(in, al, V(0)), tk);
    // XACT_OPQ: without a hardware fma, -ffast-math would round 1 + s first.
    return math::detail::scale_rounded(simd::fma(x, s, XACT_OPQ(x)), math::detail::exp_k(tk));
  }

  // t < -lim for |x| >= 2^64 (2^512): x e^t, e^t = (ph + pl) 2^kf (detail::exp_split), x scaled
  // by 2^-120 (2^-1000) first (exact) so that x e's mantissa product stays exact where beta is
  // tiny, and back in the final scaling. Where x e^-|t| < 2^-151 for sure (|t| > 194 / 1458)
  // a is clamped, which keeps k in scale2's range.
  template <class V>
  static V forward_big(const V& xc, const V& a, const V& al) noexcept {
    using S = simd::scalar_t<V>;
    constexpr bool F = sizeof(S) == 4;
    const V xs = xc * V(F ? S(0x1p-120) : S(0x1p-1000));
    const V lo = V(F ? S(-194) : S(-1458));
    const V at = simd::max(lo, a);  // keeps NaN
    // e^(a + al) = e^a (1 + al); al is not meaningful where a was clamped (or a = -inf).
    const V alt = simd::select(a >= lo, al, V(0));
    V pl, kf;
    const V ph = detail::exp_split(at, pl, kf);
    pl = simd::fma(ph, alt, pl);
    V nl;
    const V nh = simd::two_prod(xs, ph, nl);
    nl = simd::fma(xs, pl, nl);
    return detail::scale2(nh + nl, kf + V(F ? S(120) : S(1000)));
  }

 public:
  template <class V>
  V forward(const V& x) const noexcept {
    V xn, a, al;
    split_t(x, xn, a, al);
    auto ok = a >= V(-lim<V>());  // false for NaN
#if !XACT_HAS_FMA
    using S = simd::scalar_t<V>;
    ok = ok & (simd::abs(x) <= V(sizeof(S) == 4 ? S(0x1p100) : S(0x1p900)));
#endif
    if (!simd::all(ok)) {
      // No lane in the core's range (and beta != 0: forward_general's first case): its tail
      // for the whole group at once (per batch, subnormal results ran 3x the normal time).
      if (beta != 0 && !simd::any(a >= V(-lim<V>()))) return forward_out(x);
      return simd::per_batch([this](const auto& xb) { return forward_general(xb); }, x);
    }
    // Every |t| < 2^-26 (2^-55 in double): y = x/2 (1 + t/2 + ...) rounds as x/2, which is
    // what the core gives there (checked bit for bit over every float, beta = 1, 0.5, 3, AVX2
    // and SSE2), in one operation: the core's chain of operations on a subnormal x is slow on
    // x86 (subnormal inputs ran 2.5x the normal time).
    using S = simd::scalar_t<V>;
    if (simd::all(a > V(sizeof(S) == 4 ? S(-0x1p-26) : S(-0x1p-55)))) return x * V(S(0.5));
    return forward_core(x, xn, blog2e<V>(), a, al);
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

  // t = th + tl with its sign, from -|t| = a + al (for SiLU, x itself; +-0 alike downstream).
  template <class V>
  void signed_t(const V& x, const V& a, const V& al, V& th, V& tl) const noexcept {
    if (beta == 1) {
      th = x;
      tl = V(0);
      return;
    }
    th = pick(x, a, -a);  // the sign of +-0 does not matter downstream
    tl = pick(x, al, -al);
  }

  // f'(t) for lanes with |t| <= lim, from t = th + tl and -|t| = a + al.
  template <class V>
  V derivative_core(const V& th, const V& tl, const V& xn, const V& bl, const V& a,
                    const V& al) const noexcept {
    V el, res, rcp, omq;
    const V eh = exp_hl(xn, bl, a, al, el);
    const V q0 = sig_hl(eh, el, th, res, rcp, omq);
    const V q1 = res * rcp;
    // c = 1 - s = ch + cl: 1 - q0 exactly as a Fast2Sum (exact outright for t >= 0).
    const V ch = omq;
    const V cl = XACT_OPQ(XACT_OPQ(V(1) - simd::opaque(ch)) - q0) - q1;
    // g = 1 + t c = gh + gl: t ch exact (two_prod), then Fast2Sum(1, m): valid for |m| < 2,
    // and for m <= -1 (m <= 0 whenever t < 0) 1 + m is exact and the formula gives 0.
    V me;
    const V m = simd::two_prod(th, ch, me);
    me = simd::fma(th, cl, beta == 1 ? me : simd::fma(tl, ch, me));  // SiLU: tl = 0
    const V gh = XACT_OPQ(V(1) + m);
    const V gl = XACT_OPQ(m - simd::opaque(gh - V(1))) + me;
    // s g, one rounding of the dominant product.
    // (Without an fma, -ffast-math factored q0 out: q0 (gh + gl) lost gl.)
    const V f = simd::fma(q0, gh, XACT_OPQ(simd::fma(q0, gl, q1 * gh)));
    using S = simd::scalar_t<V>;
    // The polynomial only where a lane needs it (the same bits either way).
    const auto far = simd::abs(th - V(S(-1.2784645))) >= V(S(0.25));  // th is finite here
    if (simd::all(far)) return f;
    return simd::select(far, f, phi_near_zero(th, tl));
  }

  // dy f' for any x, bit for bit dy times derivative_core's where |t| <= lim.
  template <class V>
  XACT_COLD V backward_general(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    constexpr bool F = sizeof(S) == 4;
    const V xc = clamp_finite(x);
    const auto pos = positive(x);
    V xn, a, al;
    split_t(xc, xn, a, al);
    const auto in = a >= V(-lim<V>());
    // t < -lim: f' = e^t (1 + t) (relative 2^-92) as a significand and an exponent, and dy
    // times it rounded once (math::detail::mul_scaled): not rounded into the subnormals before
    // dy scales it (a loss-scaled dy keeps a normal dx there), nothing subnormal computed. Down
    // to t = -200 (-1500 double): below, dy f' is 0 even for the largest dy. 1 + a is exact
    // (a <= -2). At x = +-inf on that side f' is 0: dy * 0.
    const V lo = V(F ? S(-200) : S(-1500));
    const V at = simd::max(lo, a);  // keeps NaN
    const V alt = simd::select(a >= lo, al, V(0));
    V pl, kf;
    const V ph = detail::exp_split(at, pl, kf);
    pl = simd::fma(ph, alt, pl);
    const V u = (V(1) + at) + alt;
    V dl;
    const V dh = simd::two_prod(ph, u, dl);
    V tail = math::detail::mul_scaled(dy, dh, simd::fma(pl, u, dl), kf);
    tail = simd::select(simd::abs(x) == V(std::numeric_limits<S>::infinity()), dy * V(0), tail);
    // t > lim: f' = 1 (to 2^-111): dy. NaN: pos is false, tail is NaN.
    const V out = simd::select(pos, dy, tail);
    if (!simd::any(in)) return out;
    const V ai = simd::select(in, a, V(0)), ali = simd::select(in, al, V(0));
    V th, tl;
    signed_t(simd::select(in, xc, V(0)), ai, ali, th, tl);
    const V core = derivative_core(th, tl, simd::select(in, xn, V(0)), blog2e<V>(), ai, ali);
    return simd::select(in, dy * core, out);
  }

  // x s(1 - s) as a value (for the parameter gradient), from x only: x (ph + pl) 2^k D^2,
  // D = 1/(1 + e) in double-word; 0 beyond |t| = 150 / 1100 (exactly where x^2 s(1 - s) <
  // 2^-151 unless |beta| is below ~1e-12).
  template <class V>
  V param_factor(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V lim = V(sizeof(S) == 4 ? S(150) : S(1100));
    const V xc = simd::max(V(std::numeric_limits<S>::lowest()),
                           simd::min(V(std::numeric_limits<S>::max()), x));
    V xn, a, al;
    split_t(xc, xn, a, al);
    const V at = simd::max(-lim, a);  // keeps NaN
    V pl, kf;
    const V ph = detail::exp_split(at, pl, kf);
    pl = simd::fma(ph, simd::select(a >= -lim, al, V(0)), pl);
    const V eh = detail::scale2(ph, kf);
    const V h = XACT_OPQ(V(1) + eh);
    const V l = XACT_OPQ(eh - XACT_OPQ(h - V(1))) + detail::scale2(pl, kf);
    const V dh = simd::div(V(1), h);
    V pe;
    const V p = simd::two_prod(dh, h, pe);
    const V dl = ((XACT_OPQ(V(1) - p) - pe) - dh * l) * dh;
    const V w = detail::scale2(xc * ((ph + pl) * (dh + dl)) * dh, kf);
    return simd::select(a < -lim, V(0), w);
  }

 public:
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    V xn, a, al;
    split_t(x, xn, a, al);
    if (!simd::all(a >= V(-lim<V>()))) {
      if (beta == 0) return dy * V(S(0.5));  // the fast path's result for every finite x, too
      return simd::per_batch(
          [this](const auto& xb, const auto& gb) { return backward_general(xb, gb); }, x, dy);
    }
    // Every |t| < 2^-26 (2^-55 in double): f'(t) = 1/2 + t/2 + O(t^3) rounds to 1/2, which
    // the core gives there too (checked bit for bit over every such float, beta = 1, 1.7, -0.3,
    // AVX-512 and SSE2), in one operation: the core's chain on a subnormal t ran up to 2.1x the
    // normal time.
    if (simd::all(a > V(sizeof(S) == 4 ? S(-0x1p-26) : S(-0x1p-55)))) return dy * V(S(0.5));
    V th, tl;
    signed_t(x, a, al, th, tl);
    return dy * derivative_core(th, tl, xn, blog2e<V>(), a, al);
  }

  // dx as backward_from_x; dparam = dy x^2 s(beta x)(1 - s(beta x)), the term of d(beta).
  template <class V>
  V backward_param_from_x(const V& x, const V& dy, V& dparam) const noexcept {
    using S = simd::scalar_t<V>;
    const V xc = simd::max(V(std::numeric_limits<S>::lowest()),
                           simd::min(V(std::numeric_limits<S>::max()), x));
    dparam = XACT_OPQ(param_factor(x) * xc) * dy;
    return backward_from_x(x, dy);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact

XACT_DIAGNOSTICS_END
