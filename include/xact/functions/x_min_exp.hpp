// x * min(1, e^x)   (Su, 2017: a Swish-like curve that is exactly the identity on x >= 0)
//   forward        y  = x for x >= 0,  x e^x below
//   backward_from_x   dx = dy for x >= 0,  dy e^x (1 + x) below                    reads x
//   Stable form: e^x is only ever taken of min(x, 0), so nothing overflows. e^x = (1 + s) 2^k
//   (s = e^r - 1 rounded once): the products x e^x = fma(x, s, x) 2^k and e^x (1 + x) are
//   formed with 1 + s unrounded, rounded once, and only then scaled by 2^k. A result that is
//   normal is therefore never built from a subnormal e^x (x e^x at x = -100 is 2^-141 in float,
//   while e^-100 alone would keep 3 significant bits), and 1 + x is exact near the zero of the
//   derivative at x = -1 (Sterbenz), so the derivative keeps full relative accuracy there too:
//   no absolute floor is needed (the tests use none). At x = -1 exactly, dx = dy * 0.
//   Two paths per batch, bit-identical where both apply: when every lane has x >= -85 (float) /
//   -700 (double), the results are normal (or k = 0) and 2^k is applied once, exactly (no
//   clamps); otherwise (a lane below, or NaN) the general path computes those lanes the same way
//   and the others with e^x split as (hi + lo) 2^k (detail::exp_split) and 2^k applied once
//   at the end (scale2 / math::detail::scale_rounded), down into the subnormals without any
//   subnormal arithmetic (several times slower on x86).
//   The derivative at 0 is 1 from both sides (f is C1). The backward forms the factor
//   e^x (1 + x) as a value where it is a normal number and multiplies by dy; below -85 (-700)
//   it keeps the factor as a significand and an exponent and rounds dy times it once
//   (math::detail::mul_scaled): a large dy (loss scaling) brings a factor from far below the
//   normal range back into it, and the result keeps its accuracy.
//   Values: y(-inf) = -0, y(+inf) = +inf, y(-0) = -0, NaN propagates; dx(-inf) = dy * -0,
//   dx(+inf) = dy.
//   Error (strict ULP, exhaustive float walk / sampled doubles): see README; the bounds are
//   registered in tests/test_x_min_exp.cpp: forward float 1, double 1; backward_from_x float 2,
//   double 2.
#pragma once

#include <limits>

#include "../core/math.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {
namespace detail {

// exp_split and scale2 live in math.hpp (math::detail): sigmoid's, tanh's and softplus's
// derivative tails use them too.
using math::detail::exp_split;
using math::detail::scale2;

// math::detail::exp_poly_q's polynomial (the Taylor coefficients 1/n!: e^r = 1 + r + r^2 q(r)),
// evaluated in Estrin's scheme: the same operation count as Horner's, about half the latency
// (the fast paths below are latency-bound: every lane waits on one long chain).
template <class V>
inline V exp_poly_q_estrin(const V& r, const V& r2) noexcept {
  using S = simd::scalar_t<V>;
  if constexpr (sizeof(S) == 4) {
    const V a = simd::fma(V(0x1.555556p-3f), r, V(0.5f));              // 1/2! + r/3!
    const V b = simd::fma(V(0x1.111112p-7f), r, V(0x1.555556p-5f));    // 1/4! + r/5!
    const V c = simd::fma(V(0x1.a01a02p-13f), r, V(0x1.6c16c2p-10f));  // 1/6! + r/7!
    return simd::fma(simd::fma(c, r2, b), r2, a);
  } else {
    const V r4 = r2 * r2;
    const V a = simd::fma(V(0x1.5555555555555p-3), r, V(0.5));
    const V b = simd::fma(V(0x1.1111111111111p-7), r, V(0x1.5555555555555p-5));
    const V c = simd::fma(V(0x1.a01a01a01a01ap-13), r, V(0x1.6c16c16c16c17p-10));
    const V d = simd::fma(V(0x1.71de3a556c734p-19), r, V(0x1.a01a01a01a01ap-16));
    const V e = simd::fma(V(0x1.ae64567f544e4p-26), r, V(0x1.27e4fb7789f5cp-22));
    const V f = simd::fma(V(0x1.6124613a86d09p-33), r, V(0x1.1eed8eff8d898p-29));
    const V lo = simd::fma(b, r2, a);   // degree 3
    const V mid = simd::fma(d, r2, c);  // degree 3, from r^4
    const V hi = simd::fma(f, r2, e);   // degree 3, from r^8
    return simd::fma(simd::fma(hi, r4, mid), r4, lo);
  }
}

// The fast path's e^(a + al) for |a| <= ~87 (float) / ~705 (double) and |al| <= ulp(a): math::exp's
// reduction (a = k ln2 + r, k ln2_hi exact) with al folded into r, returning s = e^r - 1 rounded
// once (|s| <= 0.415) and tk = magic + k. Callers keep 1 + s unrounded (fma(v, s, v) is v (1 + s)
// rounded once) or split it exactly, and apply 2^k once (math::detail::exp_scale_normal, or a
// product by pow2k(tk)): no clamps, no two-step scaling. r's rounding (<= 2^-26) and s's
// (<= 2^-26 against 1 + s >= 0.7) are the only errors beyond the polynomial's. k comes from
// xk log2e with xk log2e = a log2e up to a rounding (x (|beta| log2e) for Swish, off the chain
// of a = |beta| x): k may then be off by one next to a tie, |r| <= ln2/2 + 2^-20, where the
// polynomial is as accurate.
template <class V>
inline V exp_fast_s(const V& k_arg, const V& k_mul, const V& a, const V& al, V& tk) noexcept {
  using C = math::detail::exp_constants<simd::scalar_t<V>>;
  // opaque: under -ffast-math, (t + magic) - magic must not fold back to t.
  tk = simd::opaque(simd::fma(k_arg, k_mul, V(C::round_magic)));
  const V kf = tk - V(C::round_magic);
  const V rh = simd::opaque(simd::fnma(kf, V(C::ln2_hi), a));  // exact: k ln2_hi has few bits
  const V r = rh + simd::fnma(kf, V(C::ln2_lo), al);
  const V r2 = r * r;
  return simd::fma(r2, exp_poly_q_estrin(r, r2), r);
}
template <class V>
inline V exp_fast_s(const V& a, V& tk) noexcept {
  using C = math::detail::exp_constants<simd::scalar_t<V>>;
  tk = simd::opaque(simd::fma(a, V(C::log2e), V(C::round_magic)));
  const V kf = tk - V(C::round_magic);
  V r = simd::opaque(simd::fnma(kf, V(C::ln2_hi), a));
  r = simd::fnma(kf, V(C::ln2_lo), r);
  const V r2 = r * r;
  return simd::fma(r2, exp_poly_q_estrin(r, r2), r);
}

// 2^k as a value from tk = magic + k (k + bias in [1, 2 bias]): k's bits shifted into the
// exponent field (the magic constant's bits vanish there, see math::detail::exp_scale_normal),
// plus 1's bits.
template <class V>
inline V pow2k(const V& tk) noexcept {
  return math::detail::exp_scale_normal(V(1), tk);
}

}  // namespace detail

struct x_min_exp {
  // The drivers may run this code on simd::wide (several batches at once; core/elementwise.hpp).
  static constexpr bool simd_wide = true;
  static constexpr bool stream_forward = true;  // see core/elementwise.hpp (backward: no gain)

  // Below lo, |x| e^x < 2^-151 (float: 112 e^-112 ~ 5e-47) / 2^-1076 (double): the forward's
  // result rounds to -0, so clamping x there loses nothing. (The backward clamps lower: dy
  // scales its factor.)
  template <class V>
  static V lo() noexcept {
    return V(sizeof(simd::scalar_t<V>) == 4 ? simd::scalar_t<V>(-112) : simd::scalar_t<V>(-760));
  }

  // The fast path's domain, x >= -fast_lim: there x e^x and e^x (1 + x) are normal numbers (85
  // e^-85 ~ 2^-116; 700 e^-700 ~ 2^-1000) or k = 0, so 2^k is applied once, exactly.
  template <class V>
  static V fast_lim() noexcept {
    return V(sizeof(simd::scalar_t<V>) == 4 ? simd::scalar_t<V>(85) : simd::scalar_t<V>(700));
  }

  // Above -tiny_lim (and below 0) e^x is taken at 0: x (1 + s) and e^x (1 + x) round as at 0.
  template <class V>
  static V tiny_lim() noexcept {
    return V(sizeof(simd::scalar_t<V>) == 4 ? simd::scalar_t<V>(0x1p-26)
                                            : simd::scalar_t<V>(0x1p-55));
  }

  // Two paths, bit-identical where both apply (the general one computes the fast formula for
  // x >= -fast_lim): a batch with every lane at x >= -fast_lim (NaN fails the test) takes the
  // fast one. xm = min(x, 0) (x >= 0 is selected at the end); e^xm = (1 + s) 2^k, and
  // xm (1 + s) = fma(xm, s, xm) is the product with 1 + s unrounded, rounded once.
  template <class V>
  V forward(const V& x) const noexcept {
    if (!simd::all(x >= -fast_lim<V>())) {
      // Every lane beyond the fast path's range: the general path for the whole group at once
      // (per batch, subnormal-heavy inputs ran 2.4x the normal time).
      if (simd::all(x < -sub_lim<V>())) return subnormal(x);
      if (simd::all(x < -fast_lim<V>())) return general(x);
      return simd::per_batch([this](const auto& xb) { return forward_general(xb); }, x);
    }
    // e^xm taken at 0 for -2^-26 < x < 0 too (2^-55 in double; and for NaN: the NaN comes
    // through x): there x (1 + s) = x + x^2 (1 + ...) rounds to x anyway (x^2 is below half an
    // ulp of x), and an exp of a subnormal argument is a chain of slow subnormal operations on
    // x86 (subnormal inputs ran 2.1x the normal time).
    const V xm = simd::select(x < -tiny_lim<V>(), x, V(0));
    V tk;
    const V s = detail::exp_fast_s(xm, tk);
    // XACT_OPQ: without a hardware fma, -ffast-math rewrites x s + x as x (s + 1), which
    // rounds s once more (2 ulp, SSE2).
    const V y = math::detail::exp_scale_normal(simd::fma(x, s, XACT_OPQ(x)), tk);
    // -0 >= 0: y(-0) = -0.
    return simd::select(x >= V(0), x, y);
  }

  // dy e^x (1 + x): 1 + x = uh + ul exactly, (1 + s)(uh + ul) = (1 + s) uh + ul (1 + s) with the
  // product of 1 + s and uh kept exact (fma(s, uh, uh) rounds once; its error is not needed:
  // ul is 0 wherever 1 + x could cancel, see below). The factor is scaled by 2^k (a product:
  // it is 0 at x = -1) and then multiplied by dy.
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    if (!simd::all(x >= -fast_lim<V>())) {
      if (simd::all(x < -fast_lim<V>())) return general_grad(x, dy);  // as in forward
      return simd::per_batch(
          [this](const auto& xb, const auto& gb) { return backward_general(xb, gb); }, x, dy);
    }
    // e^xm (1 + xm) taken at 0 for -2^-26 < x < 0 too (2^-55 in double), as in forward: there
    // it rounds to 1 (1 + 2x + ..., 2|x| below half an ulp of 1) as factor_fast(x) does, without
    // the exp chain's subnormal operands (subnormal inputs ran 2.6x the normal time, AVX-512).
    // NaN never gets here.
    const V xm = simd::select(x < -tiny_lim<V>(), x, V(0));
    return simd::select(x >= V(0), dy, dy * factor_fast(xm));
  }

 private:
  // e^xm (1 + xm) for xm in [-fast_lim, 0]. 1 + xm = uh + ul: uh is exact for xm <= -1/2
  // (Sterbenz on [-2, -1/2]; beyond -2 both are multiples of ulp(xm) and |1 + xm| < |xm|), so
  // ul (Fast2Sum, valid for |xm| < 2, and 0 where exact) is nonzero only on (-1/2, 0], where
  // 1 + x >= 1/2 does not cancel.
  template <class V>
  static V factor_fast(const V& xm) noexcept {
    V tk;
    const V d = factor_mantissa(xm, tk);  // sets tk
    return d * detail::pow2k(tk);
  }
  // (1 + s)(uh + ul) = uh + [uh s + ul (1 + s)]: one rounding of the sum; e^xm (1 + xm) is that
  // times 2^k (k in tk). Valid for xm in [-170, 0] (float: |k| < 2^8, so that k ln2_hi is
  // exact also without an fma) / [-1500, 0] (double).
  template <class V>
  static V factor_mantissa(const V& xm, V& tk) noexcept {
    const V s = detail::exp_fast_s(xm, tk);
    // XACT_OPQ: -ffast-math would merge 1 + xm into the final sum, where xm + 1 no longer
    // cancels exactly (3e10 ulp near x = -1, SSE2 double), or rewrite uh s + uh as uh (s + 1).
    const V uh = XACT_OPQ(V(1) + xm);
    const V ul = xm - simd::opaque(uh - V(1));
    return simd::fma(uh, s, simd::fma(ul, s, ul)) + XACT_OPQ(uh);
  }

  // Below -sub_lim, x e^x is below the smallest normal number (float: 92 e^-92 ~ 1.07e-38 <
  // 2^-126; double: 716 e^-716 ~ 1e-308 < 2^-1022), down to -0 below lo: general's bits with
  // scale_rounded's subnormal branch alone (subnormal results ran 2.2x the normal time).
  template <class V>
  static V sub_lim() noexcept {
    return V(sizeof(simd::scalar_t<V>) == 4 ? simd::scalar_t<V>(92) : simd::scalar_t<V>(716));
  }
  template <class V>
  static V subnormal(const V& x) noexcept {
    const V xm = simd::max(lo<V>(), x);  // x < -sub_lim: no NaN, no x >= 0
    V tk;
    const V s = detail::exp_fast_s(xm, tk);
    return math::detail::scale_subnormal(simd::fma(xm, s, XACT_OPQ(xm)), math::detail::exp_k(tk));
  }

  template <class V>
  XACT_COLD V forward_general(const V& x) const noexcept {
    return general(x);
  }
  template <class V>
  static V general(const V& x) noexcept {
    // The fast formula with x clamped at lo (k >= -162) and 2^k applied by scale_rounded_mid: the
    // same bits where the fast path applies (2^k exact there), and below it the product rounded
    // once more into the subnormals, without subnormal arithmetic. k comes from the clamp
    // without NaN (no garbage exponent); a NaN x is returned as it is.
    const V xm = simd::max(lo<V>(), simd::min(x, V(0)));
    V tk;
    const V s = detail::exp_fast_s(xm, tk);
    const V y =
        math::detail::scale_rounded_mid(simd::fma(xm, s, XACT_OPQ(xm)), math::detail::exp_k(tk));
    return simd::select(x < V(0), y, x);  // x >= 0 (-0 too) and NaN: x
  }

  template <class V>
  XACT_COLD V backward_general(const V& x, const V& dy) const noexcept {
    return general_grad(x, dy);
  }
  template <class V>
  static V general_grad(const V& x, const V& dy) noexcept {
    using S = simd::scalar_t<V>;
    using math::detail::mul_scaled_k;
    const auto fast = x >= -fast_lim<V>();
    // x < -fast_lim: dy e^x (1 + x) with e^x (1 + x) as a significand and an exponent
    // (math::detail::mul_scaled_k), so that it is not rounded into the subnormals before dy
    // scales it (a loss-scaled dy = 2^16 and more keeps a normal dx there) and nothing
    // subnormal is computed. x is clamped lower than the forward's: dy up to the largest finite
    // number still brings e^x (1 + x) back into range down to x ~ -195 (-1450 double).
    // The fast path's factor, unrounded, then scaled: one formula for every lane (the fast
    // lanes' bits). Its reduction is exact with an fma down to the clamp; without one, k ln2_hi
    // is exact for |k| < 2^8 only, so the clamp is -177 there (float): x below is taken as -177,
    // exact for |dy| < 2^105 (beyond, dx is below its true value).
    constexpr S clamp = sizeof(S) == 8 ? S(-1500) : XACT_HAS_FMA ? S(-200) : S(-177);
    const V xm = simd::max(V(clamp), simd::min(x, V(0)));  // NaN dropped: k is never garbage
    V tk;
    const V d = factor_mantissa(xm, tk);
    V slow = mul_scaled_k<false>(dy, d, d, math::detail::exp_k(tk));
    // x = -inf: f' is 0 there (dy * -0: NaN for dy = +-inf, as everywhere f' = 0). NaN x: NaN.
    slow = simd::select(x == V(-std::numeric_limits<S>::infinity()), dy * V(S(-0.0)), slow);
    slow = simd::select(simd::isnan(x), x + dy, slow);
    if (!simd::any(fast)) return slow;
    return simd::select(x >= V(0), dy, simd::select(fast, dy * (d * detail::pow2k(tk)), slow));
  }

 public:
  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact

XACT_DIAGNOSTICS_END
