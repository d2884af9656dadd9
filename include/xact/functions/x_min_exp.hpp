// x * min(1, e^x)   (Su, 2017: a Swish-like curve that is exactly the identity on x >= 0)
//   forward        y  = x for x >= 0,  x e^x below
//   backward_from_x   dx = dy for x >= 0,  dy e^x (1 + x) below                    reads x
//   Stable form: e^x is only ever taken of min(x, 0), so nothing overflows. e^x is kept split
//   as (hi + lo) 2^k (detail::exp_split below): the products x e^x and e^x (1 + x) are formed
//   on the mantissa hi + lo, rounded once, and only then scaled by 2^k. A result that is
//   normal is therefore never built from a subnormal e^x (x e^x at x = -100 is 2^-141 in float,
//   while e^-100 alone would keep 3 significant bits), and 1 + x is exact near the zero of the
//   derivative at x = -1 (Sterbenz), so the derivative keeps full relative accuracy there too:
//   no absolute floor is needed (the tests use none). At x = -1 exactly, dx = dy * 0.
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

}  // namespace detail

struct x_min_exp {
  // Below lo, |x| e^x < 2^-151 (float: 112 e^-112 ~ 5e-47) / 2^-1076 (double): the result
  // rounds to -0 and the derivative factor to 0, so clamping x there loses nothing and keeps
  // k >= -162 / -1097 (scale2's range).
  template <class V>
  static V lo() noexcept {
    return V(sizeof(simd::scalar_t<V>) == 4 ? simd::scalar_t<V>(-112) : simd::scalar_t<V>(-760));
  }

  template <class V>
  V forward(const V& x) const noexcept {
    // max(lo, min(0, x)) keeps NaN (x second each time).
    const V xm = simd::max(lo<V>(), simd::min(V(0), x));
    V pl, kf;
    const V ph = detail::exp_split(xm, pl, kf);
    V nl;
    const V nh = simd::two_prod(xm, ph, nl);
    const V neg = detail::scale2(nh + simd::fma(xm, pl, nl), kf);
    // x >= 0 is false for NaN: neg (NaN) flows through. -0 >= 0: y(-0) = -0.
    return simd::select(x >= V(0), x, neg);
  }

  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    const V xm = simd::max(lo<V>(), simd::min(V(0), x));
    V pl, kf;
    const V ph = detail::exp_split(xm, pl, kf);
    // 1 + x = uh + ul exactly (TwoSum); uh is exact on [-2, -0.5] (Sterbenz), around the zero.
    const V uh = V(1) + xm;
    const V bv = uh - V(1);
    const V ul = (V(1) - (uh - bv)) + (xm - bv);
    V el;
    const V eh = simd::two_prod(ph, uh, el);
    const V d = detail::scale2(eh + simd::fma(ph, ul, simd::fma(pl, uh, el)), kf);
    return simd::select(x >= V(0), dy, dy * d);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact
