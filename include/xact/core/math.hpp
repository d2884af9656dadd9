// xact/core/math.hpp: elementary functions written once over V (float, double, or an xsimd
// batch of either), so that a scalar call and every SIMD lane give bit-identical results.
//
// Only +, -, *, /, fma (simd::fma rounds once exactly where the batch fma does), min/max,
// select and integer bit operations are used: every one of them rounds the same way for a
// scalar and for a lane. Error bounds below are measured by tests/test_math.cpp against the
// long-double reference, strict ULP (down to the subnormal spacing).
#pragma once

#include "simd.hpp"

namespace xact {
namespace math {

namespace detail {

template <class S>
struct exp_constants;

template <>
struct exp_constants<float> {
  static constexpr float log2e = 0x1.715476p+0f;
  // ln 2 = ln2_hi + ln2_lo; ln2_hi has 16 significant bits, so k * ln2_hi is exact for |k| < 2^8
  // even without an fma.
  static constexpr float ln2_hi = 0x1.62e400p-1f;
  static constexpr float ln2_lo = 0x1.7f7d1cp-20f;
  // Rounding to an integer by adding 1.5 * 2^23: the integer then sits in the low mantissa bits.
  static constexpr float round_magic = 0x1.8p23f;
  // e^89 > FLT_MAX overflows to +inf; e^-104 < 2^-150 rounds to 0: clamping there loses nothing
  // and keeps k (below) in [-150, 129].
  static constexpr float lo = -104.0f;
  static constexpr float hi = 89.0f;
  static constexpr int mantissa_bits = 23;
  static constexpr int bias = 127;
};

template <>
struct exp_constants<double> {
  static constexpr double log2e = 0x1.71547652b82fep+0;
  // ln2_hi has 32 trailing zero bits (fdlibm's split), so k * ln2_hi is exact for |k| < 2^20.
  static constexpr double ln2_hi = 0x1.62e42fee00000p-1;
  static constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
  static constexpr double round_magic = 0x1.8p52;
  // e^710 > DBL_MAX; e^-746 < 2^-1075 rounds to 0.
  static constexpr double lo = -746.0;
  static constexpr double hi = 710.0;
  static constexpr int mantissa_bits = 52;
  static constexpr int bias = 1023;
};

// 2^k from the bits, for k + bias in [1, 2 * bias] (a normal power of two).
template <class V, class I>
inline V pow2i(const I& k) noexcept {
  using C = exp_constants<simd::scalar_t<V>>;
  return simd::from_bits<V>((k + I(C::bias)) << C::mantissa_bits);
}

// e^r - 1 - r, divided by r^2 (so e^r = 1 + r + r^2 * q) for |r| <= ln2/2 + a little.
// Taylor coefficients 1/n!: degree 7 for float (truncation < 5e-9 relative, 0.04 ulp),
// degree 13 for double (truncation < 5e-18 relative, 0.04 ulp).
template <class V>
inline V exp_poly_q(const V& r) noexcept {
  using S = simd::scalar_t<V>;
  if constexpr (sizeof(S) == 4) {
    V q = V(0x1.a01a02p-13f);                 // 1/7!
    q = simd::fma(q, r, V(0x1.6c16c2p-10f));  // 1/6!
    q = simd::fma(q, r, V(0x1.111112p-7f));   // 1/5!
    q = simd::fma(q, r, V(0x1.555556p-5f));   // 1/4!
    q = simd::fma(q, r, V(0x1.555556p-3f));   // 1/3!
    return simd::fma(q, r, V(0.5f));          // 1/2!
  } else {
    V q = V(0x1.6124613a86d09p-33);                 // 1/13!
    q = simd::fma(q, r, V(0x1.1eed8eff8d898p-29));  // 1/12!
    q = simd::fma(q, r, V(0x1.ae64567f544e4p-26));  // 1/11!
    q = simd::fma(q, r, V(0x1.27e4fb7789f5cp-22));  // 1/10!
    q = simd::fma(q, r, V(0x1.71de3a556c734p-19));  // 1/9!
    q = simd::fma(q, r, V(0x1.a01a01a01a01ap-16));  // 1/8!
    q = simd::fma(q, r, V(0x1.a01a01a01a01ap-13));  // 1/7!
    q = simd::fma(q, r, V(0x1.6c16c16c16c17p-10));  // 1/6!
    q = simd::fma(q, r, V(0x1.1111111111111p-7));   // 1/5!
    q = simd::fma(q, r, V(0x1.5555555555555p-5));   // 1/4!
    q = simd::fma(q, r, V(0x1.5555555555555p-3));   // 1/3!
    return simd::fma(q, r, V(0.5));                 // 1/2!
  }
}

}  // namespace detail

// e^x for every x: +inf above the overflow threshold (and only there), subnormal results
// rounded once (never built from a subnormal intermediate), 0 below half the smallest
// subnormal, e^-inf = 0, e^+inf = +inf, NaN propagates.
// Error (tests/test_math.cpp, strict ULP): float <= 1 ulp over all 2^32 inputs, double <= 1 ulp
// on the strided walk.
template <class V>
inline V exp(const V& x) noexcept {
  using S = simd::scalar_t<V>;
  using C = detail::exp_constants<S>;
  using I = simd::int_t<V>;
  // xn keeps NaN (x second in min/max); xk drops it, so that the integer path never sees NaN
  // (no garbage exponent, no signed-shift UB in the scalar path). For non-NaN x they are equal.
  const V xn = simd::max(V(C::lo), simd::min(V(C::hi), x));
  const V xk = simd::max(simd::min(x, V(C::hi)), V(C::lo));
  const V tk = simd::fma(xk, V(C::log2e), V(C::round_magic));
  const V kf = tk - V(C::round_magic);
  const I k = simd::to_bits(tk) - simd::to_bits(V(C::round_magic));
  V r = simd::fma(-kf, V(C::ln2_hi), xn);
  r = simd::fma(-kf, V(C::ln2_lo), r);
  const V q = detail::exp_poly_q(r);
  const V p = V(1) + simd::fma(r * r, q, r);
  // 2^k as 2^k1 * 2^k2, both normal for every k the clamp allows: p * 2^k1 is exact and the
  // second product rounds once, also when the result is subnormal or overflows.
  const I k1 = k >> 1;
  const I k2 = k - k1;
  return (p * detail::pow2i<V>(k1)) * detail::pow2i<V>(k2);
}

}  // namespace math
}  // namespace xact
