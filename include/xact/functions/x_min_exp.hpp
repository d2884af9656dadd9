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
//   and the others with e^x split as (hi + lo) 2^k (detail::exp_split) and 2^k applied in two
//   steps (scale2), down into the subnormals.
//   The derivative at 0 is 1 from both sides (f is C1). The backward forms the factor
//   e^x (1 + x) as a value (subnormal when below 2^-126 / 2^-1022) and then multiplies by dy.
//   Values: y(-inf) = -0, y(+inf) = +inf, y(-0) = -0, NaN propagates; dx(-inf) = dy * -0,
//   dx(+inf) = dy.
//   Error (strict ULP, exhaustive float walk / sampled doubles): see README; the bounds are
//   registered in tests/test_x_min_exp.cpp: forward float 1, double 1; backward_from_x float 2,
//   double 2.
#pragma once

#include "../core/math.hpp"

namespace xact {
namespace detail {

template <class S>
struct exp_split_constants;

template <>
struct exp_split_constants<float> {
  static constexpr float log2e = 0x1.715476p+0f;
  // ln 2 in three pieces: ln2_hi has 13 significant bits, so k * ln2_hi is exact for every
  // |k| < 2^11 (the whole domain below) even without an fma.
  static constexpr float ln2_hi = 0x1.62ep-1f;
  static constexpr float ln2_mid = 0x1.0bfbe8p-15f;
  static constexpr float ln2_lo = 0x1.cf79acp-40f;
  static constexpr float round_magic = 0x1.8p23f;
  static constexpr float lo = -1000.0f;
};

template <>
struct exp_split_constants<double> {
  static constexpr double log2e = 0x1.71547652b82fep+0;
  // fdlibm's split: ln2_hi has 32 trailing zero bits, k * ln2_hi exact for |k| < 2^20.
  static constexpr double ln2_hi = 0x1.62e42fee00000p-1;
  static constexpr double ln2_mid = 0x1.a39ef35793c76p-33;
  static constexpr double ln2_lo = 0.0;
  static constexpr double round_magic = 0x1.8p52;
  static constexpr double lo = -1500.0;
};

// e^x = (hi + lo) * 2^kf for x in [-1000, 0] (float) / [-1500, 0] (double); x is clamped to
// that domain (callers clamp tighter). hi + lo is within about 0.3 ulp of e^r (r = x - k ln2,
// |r| <= ln2/2), hi in [0.7, 1.42], |lo| <= ulp(hi). kf is an integer-valued V. NaN flows
// into hi and lo; kf is then computed from the clamp (never NaN).
template <class V>
inline V exp_split(const V& x, V& lo, V& kf) noexcept {
  using C = exp_split_constants<simd::scalar_t<V>>;
  // xn keeps NaN (x second); xk drops it so that kf is always a finite integer.
  const V xn = simd::max(V(C::lo), simd::min(V(0), x));
  const V xk = simd::max(simd::min(x, V(0)), V(C::lo));
  kf = simd::fma(xk, V(C::log2e), V(C::round_magic)) - V(C::round_magic);
  V r = simd::fma(-kf, V(C::ln2_hi), xn);  // exact
  r = simd::fma(-kf, V(C::ln2_mid), r);
  if constexpr (C::ln2_lo != 0) r = simd::fma(-kf, V(C::ln2_lo), r);
  // e^r = 1 + r + w, w = r^2 q(r) (math::exp's polynomial), summed as hi + lo without the
  // rounding of 1 + (r + w): only w's own rounding (|w| <= 0.07) and r's are left.
  const V w = (r * r) * math::detail::exp_poly_q(r);
  const V s = r + w;
  const V sl = (r - s) + w;  // Fast2Sum: |r| >= |w|
  const V hi = V(1) + s;
  lo = ((V(1) - hi) + s) + sl;  // Fast2Sum: 1 >= |s|
  return hi;
}

// v * 2^kf for integer-valued kf in [-252, 254] (float) / [-2044, 2046] (double), as two
// normal powers of two: v 2^k1 is exact when normal and the second product rounds once (also
// into the subnormals).
template <class V>
inline V scale2(const V& v, const V& kf) noexcept {
  using C = exp_split_constants<simd::scalar_t<V>>;
  using I = simd::int_t<V>;
  const I k = simd::to_bits(kf + V(C::round_magic)) - simd::to_bits(V(C::round_magic));
  const I k1 = k >> 1;
  const I k2 = k - k1;
  return (v * math::detail::pow2i<V>(k1)) * math::detail::pow2i<V>(k2);
}

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
  // Below lo, |x| e^x < 2^-151 (float: 112 e^-112 ~ 5e-47) / 2^-1076 (double): the result
  // rounds to -0 and the derivative factor to 0, so clamping x there loses nothing and keeps
  // k >= -162 / -1097 (scale2's range).
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

  // Two paths, bit-identical where both apply (the general one computes the fast formula for
  // x >= -fast_lim): a batch with every lane at x >= -fast_lim (NaN fails the test) takes the
  // fast one. xm = min(x, 0) (x >= 0 is selected at the end); e^xm = (1 + s) 2^k, and
  // xm (1 + s) = fma(xm, s, xm) is the product with 1 + s unrounded, rounded once.
  template <class V>
  V forward(const V& x) const noexcept {
    if (!simd::all(x >= -fast_lim<V>())) return forward_general(x);
    const V xm = simd::min(x, V(0));
    V tk;
    const V s = detail::exp_fast_s(xm, tk);
    const V y = math::detail::exp_scale_normal(simd::fma(xm, s, xm), tk);
    // -0 >= 0: y(-0) = -0.
    return simd::select(x >= V(0), x, y);
  }

  // dy e^x (1 + x): 1 + x = uh + ul exactly, (1 + s)(uh + ul) = (1 + s) uh + ul (1 + s) with the
  // product of 1 + s and uh kept exact (fma(s, uh, uh) rounds once; its error is not needed:
  // ul is 0 wherever 1 + x could cancel, see below). The factor is scaled by 2^k (a product:
  // it is 0 at x = -1) and then multiplied by dy.
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    if (!simd::all(x >= -fast_lim<V>())) return backward_general(x, dy);
    return simd::select(x >= V(0), dy, dy * factor_fast(simd::min(x, V(0))));
  }

 private:
  // e^xm (1 + xm) for xm in [-fast_lim, 0]. 1 + xm = uh + ul: uh is exact for xm <= -1/2
  // (Sterbenz on [-2, -1/2]; beyond -2 both are multiples of ulp(xm) and |1 + xm| < |xm|), so
  // ul (Fast2Sum, valid for |xm| < 2, and 0 where exact) is nonzero only on (-1/2, 0], where
  // 1 + x >= 1/2 does not cancel.
  template <class V>
  static V factor_fast(const V& xm) noexcept {
    V tk;
    const V s = detail::exp_fast_s(xm, tk);
    const V uh = V(1) + xm;
    const V ul = xm - simd::opaque(uh - V(1));
    // (1 + s)(uh + ul) = uh + [uh s + ul (1 + s)]: one rounding of the sum.
    const V d = simd::fma(uh, s, simd::fma(ul, s, ul)) + uh;
    return d * detail::pow2k(tk);
  }

  template <class V>
  V forward_general(const V& x) const noexcept {
    const auto fast = x >= -fast_lim<V>();
    const V xf = simd::select(fast, simd::min(x, V(0)), V(0));
    V tk;
    const V s = detail::exp_fast_s(xf, tk);
    const V yf = math::detail::exp_scale_normal(simd::fma(xf, s, xf), tk);
    // x < -fast_lim (or NaN): e^x split as (hi + lo) 2^k, the product formed on the mantissa
    // and rounded once, then scaled in two steps (also into the subnormals).
    const V xm = simd::max(lo<V>(), simd::min(V(0), x));  // keeps NaN (x second)
    V pl, kf;
    const V ph = detail::exp_split(xm, pl, kf);
    V nl;
    const V nh = simd::two_prod(xm, ph, nl);
    const V slow = detail::scale2(nh + simd::fma(xm, pl, nl), kf);
    return simd::select(x >= V(0), x, simd::select(fast, yf, slow));
  }

  template <class V>
  V backward_general(const V& x, const V& dy) const noexcept {
    const auto fast = x >= -fast_lim<V>();
    const V df = factor_fast(simd::select(fast, simd::min(x, V(0)), V(0)));
    const V xm = simd::max(lo<V>(), simd::min(V(0), x));
    V pl, kf;
    const V ph = detail::exp_split(xm, pl, kf);
    // 1 + x is exact here (x < -2); e^x (1 + x) on the mantissa, rounded once, then scaled.
    const V uh = V(1) + xm;
    V el;
    const V eh = simd::two_prod(ph, uh, el);
    const V slow = detail::scale2(eh + simd::fma(pl, uh, el), kf);
    return simd::select(x >= V(0), dy, dy * simd::select(fast, df, slow));
  }

 public:
  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact
