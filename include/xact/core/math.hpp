// xact/core/math.hpp: elementary functions written once over V (float, double, or an xsimd
// batch of either), so that a scalar call and every SIMD lane give bit-identical results.
//
// Only +, -, *, /, fma (simd::fma rounds once exactly where the batch fma does), min/max,
// select and integer bit operations are used: every one of them rounds the same way for a
// scalar and for a lane. Error bounds below are measured by tests/test_math.cpp against the
// long-double reference, strict ULP (down to the subnormal spacing).
#pragma once

#include <limits>
#include <type_traits>

#include "simd.hpp"

XACT_DIAGNOSTICS_BEGIN

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
XACT_INLINE V pow2i(const I& k) noexcept {
  using C = exp_constants<simd::scalar_t<V>>;
  return simd::from_bits<V>((k + I(C::bias)) << C::mantissa_bits);
}

// k << N for an integer batch or scalar: a scalar goes through its unsigned type (a negative k
// shifted left is undefined behaviour in C++17; UBSan found log1p's 2^-k doing it); a batch
// shift is an instruction.
template <int N, class I>
XACT_INLINE I shift_left(const I& k) noexcept {
  if constexpr (std::is_integral<I>::value) {
    return static_cast<I>(static_cast<std::make_unsigned_t<I>>(k) << N);
  } else {
    return k << N;
  }
}

// Integer max/min of k batches or scalars (the exponent arithmetic below).
template <class I>
XACT_INLINE I imax(const I& a, const I& b) noexcept {
  if constexpr (std::is_integral<I>::value) {
    return a < b ? b : a;
  } else {
    return simd::max(a, b);
  }
}
// m ? a : b for integer batches or scalars (m from a compare of integers).
template <class M, class I>
XACT_INLINE I iselect(const M& m, const I& a, const I& b) noexcept {
  if constexpr (std::is_integral<I>::value) {
    return m ? a : b;
  } else {
    return simd::select(m, a, b);
  }
}
template <class I>
XACT_INLINE I imin(const I& a, const I& b) noexcept {
  if constexpr (std::is_integral<I>::value) {
    return a < b ? a : b;
  } else {
    return simd::min(a, b);
  }
}

// v 2^k rounded once, also where the result is subnormal, without an arithmetic operation whose
// result is subnormal: on x86 such an operation costs several times a normal one (measured on
// Zen 3: a multiply rounding into the subnormals ~2.5x the cycles; batches of tiny exp, sigmoid,
// swish results ran 2-5x slower than normal ones). Per lane, from the exponent e of v (biased)
// and k:
//   e + k >= 1 (normal result, or overflow): (v 2^k1) 2^k2 with k = k1 + k2, both powers and the
//     intermediate normal numbers, the second product rounding once;
//   e + k <= 0 (subnormal result): u = 1 + |v| 2^(k + bias - 1) rounded once by an fma. u lies in
//     [1, 2], where the spacing is 2^-M, which is the subnormal spacing 2^(1 - bias - M) scaled
//     by 2^(bias - 1): u's rounding is the rounding of |v| 2^k to the subnormal grid (ties to
//     even alike), and u's bits minus 1's are the result's bits (u = 2: the smallest normal).
//     The fma's exact product may be tiny; its result u is not.
// The choice between the two is made with integer operations on the bits, so a scalar and a lane
// agree. Precondition: v a normal number or +-0, or NaN (kept), with |v| < 2^100 (float; 2^900
// double), and |k| < 2 bias - 2 (a k below 2 - 2 bias may be raised to it where v 2^k rounds to
// 0 either way: |v| < 2^100). A subnormal v gives v 2^k for k >= 1, else 0 (right for k <= -M-1).
// Without a hardware fma (SSE2) the u above would round twice: there the two-step product
// alone (exact, rounding once, at the subnormal cost).
// The bits of v 2^k rounded once into the subnormals (the u = 1 + |v| 2^(k + bias - 1) step
// above), for a result known to be subnormal or 0 and k >= 2 - 2 bias; needs a hardware fma.
template <class V>
XACT_INLINE simd::int_t<V> subnormal_bits(const V& v, const simd::int_t<V>& k) noexcept {
  using S = simd::scalar_t<V>;
  using I = simd::int_t<V>;
  constexpr int B = exp_constants<S>::bias;
  const V u = simd::fma(simd::abs(v), pow2i<V>(k + I(B - 1)), V(1));
  return (simd::to_bits(u) - simd::to_bits(V(1))) | (simd::to_bits(v) & simd::to_bits(V(S(-0.0))));
}
template <class V>
XACT_INLINE V scale_rounded(const V& v, const simd::int_t<V>& k) noexcept {
  using S = simd::scalar_t<V>;
  using C = exp_constants<S>;
  using I = simd::int_t<V>;
  constexpr int M = C::mantissa_bits, B = C::bias;
#if !XACT_HAS_FMA
  if constexpr (true) {
    (void)M;
    // k clamped where the result is 0 or overflows either way (|v| < 2^100).
    const I kc = imax(imin(k, I(2 * B - 2)), I(2 - 2 * B));
    const I k1 = kc >> 1;
    // opaque: -ffast-math would form 2^k1 2^k2 first.
    return simd::opaque(v * pow2i<V>(k1)) * pow2i<V>(kc - k1);
  }
#endif
  const I bits = simd::to_bits(v);
  const I e = (bits >> M) & I(2 * B + 1);
  const I ek = e + k;  // the result's biased exponent where it is normal
  // Normal: k raised to 1 - e where the result would be subnormal (that lane is not used), so
  // that no product is subnormal. opaque: -ffast-math would form 2^k1 2^k2 first.
  const auto normal = [&] {
    const I kn = imax(k, I(1) - e);
    const I k1 = kn >> 1;
    return simd::opaque(v * pow2i<V>(k1)) * pow2i<V>(kn - k1);
  };
  // Subnormal: k lowered to -e where the result is normal (that lane is not used), and not below
  // 2 - 2 bias (2^(k + bias - 1) stays normal; below, the result rounds to 0 either way).
  const auto subnormal = [&] { return subnormal_bits(v, imax(imin(k, -e), I(2 - 2 * B))); };
  // A batch of one kind (the common case) computes that one alone: the same bits.
  if (simd::all(ek < I(1))) return simd::from_bits<V>(subnormal());
  if (simd::all(ek > I(0))) return normal();
  return simd::from_bits<V>(iselect(ek < I(1), subnormal(), simd::to_bits(normal())));
}

// scale_rounded for 2^-60 <= |v| <= 2^60, or v with k = 0, or +-0, NaN (exp's p in
// [0.7, 1.42], x_min_exp's x (1 + s)): (v 2^k1) 2^k2 with k = k1 + k2 (k clamped to
// +-(2 bias - 2)), the first product exact (a normal number wherever the result is not 0 either
// way) and the second rounding once, also into the subnormals, as an fma (simd::mul_fma: no
// hardware slow path). No exponent decoding and no choice between two branches: a group that
// mixes normal and subnormal results costs what one of either kind costs (math::exp on x in
// [-103, -88]: 2.2-2.7x the normal input's time with scale_rounded, 1.4-1.9x with this; x_min_exp
// 2.1-2.9x -> 1.2-1.5x). The same bits as scale_rounded (compared over every float and 2^25
// sampled doubles for exp, sigmoid, tanh, softplus, x_min_exp). Without a hardware fma:
// scale_rounded.
template <class V>
XACT_INLINE V scale_rounded_mid(const V& v, const simd::int_t<V>& k) noexcept {
#if XACT_HAS_FMA
  using C = exp_constants<simd::scalar_t<V>>;
  using I = simd::int_t<V>;
  constexpr int B = C::bias;
  const I kc = imax(imin(k, I(2 * B - 2)), I(2 - 2 * B));
  const I k1 = kc >> 1;
  // opaque: -ffast-math would form 2^k1 2^k2 first.
  return simd::mul_fma(simd::opaque(v * pow2i<V>(k1)), pow2i<V>(kc - k1));
#else
  return scale_rounded(v, k);
#endif
}

// scale_rounded where the caller knows the result is subnormal or 0 (|v| 2^k below the smallest
// normal, v normal, k >= 2 - 2 bias): its subnormal branch alone, the same bits, without
// decoding v's exponent and choosing (with an fma; without one, scale_rounded itself).
template <class V>
XACT_INLINE V scale_subnormal(const V& v, const simd::int_t<V>& k) noexcept {
#if XACT_HAS_FMA
  return simd::from_bits<V>(subnormal_bits(v, k));
#else
  return scale_rounded(v, k);
#endif
}

// e^r - 1 - r, divided by r^2 (so e^r = 1 + r + r^2 * q) for |r| <= ln2/2 + a little.
// Taylor coefficients 1/n!: degree 7 for float (truncation < 5e-9 relative, 0.04 ulp),
// degree 13 for double (truncation < 5e-18 relative, 0.04 ulp).
template <class V>
XACT_INLINE V exp_poly_q(const V& r) noexcept {
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

// The q of exp_poly_q fitted for exp itself: float, the minimax polynomial of degree 4 (e^r =
// 1 + r + r^2 q(r), degree 6 in all) for the relative error of e^r on |r| <= 0.3466 (ln2/2 plus
// the reduction's slack), Remez on 40 digits, coefficients rounded to float: 3.8e-9 relative
// (0.03 ulp), one fma less than the Taylor form. double keeps the Taylor form (degree 13).
// expm1, tanh and softplus keep exp_poly_q: their error sits in e^r - 1, where the fit's r^2
// term error (relative to r, not to e^r) would count more.
// The coefficients c2..c6 (e^r ~ 1 + r + c2 r^2 + ... + c6 r^6), shared with swish's Estrin
// evaluation.
struct exp_fit_float {
  static constexpr float c2 = 0x1.fffffcp-2f;
  static constexpr float c3 = 0x1.555492p-3f;
  static constexpr float c4 = 0x1.5558f2p-5f;
  static constexpr float c5 = 0x1.1239e0p-7f;
  static constexpr float c6 = 0x1.6a243ap-10f;
};

template <class V>
XACT_INLINE V exp_poly_fit(const V& r) noexcept {
  using S = simd::scalar_t<V>;
  if constexpr (sizeof(S) == 4) {
    using F = exp_fit_float;
    V q = V(F::c6);
    q = simd::fma(q, r, V(F::c5));
    q = simd::fma(q, r, V(F::c4));
    q = simd::fma(q, r, V(F::c3));
    return simd::fma(q, r, V(F::c2));
  } else {
    return exp_poly_q(r);
  }
}

// The steps every exp variant shares: x = k ln2 + r with |r| <= ln2/2 + a little (k from the
// rounding of x log2e, the magic-constant way; ln2 in two parts so that k ln2_hi is exact), and
// p = e^r = 1 + r + r^2 q(r) rounded once; tk = magic + k (exp_k reads k from it). xk gives k
// and must not be NaN (no garbage exponent); xr gives r and may be (NaN then flows into p). For
// non-NaN x both are x (or x clamped alike).
template <class V>
XACT_INLINE V exp_reduce(const V& xk, const V& xr, V& tk) noexcept {
  using C = exp_constants<simd::scalar_t<V>>;
  // opaque: under -ffast-math, (t + magic) - magic must not fold back to t.
  tk = simd::opaque(simd::fma(xk, V(C::log2e), V(C::round_magic)));
  const V kf = tk - V(C::round_magic);  // k, exactly
  // opaque: without an fma, -ffast-math would merge the two steps into one by ln2 rounded.
  V r = simd::opaque(simd::fnma(kf, V(C::ln2_hi), xr));
  r = simd::fnma(kf, V(C::ln2_lo), r);
  // XACT_OPQ: without an fma, -ffast-math would form (1 + r) + r^2 q. r^2 as an fma
  // (simd::mul_fma, the same bits): for a subnormal x, r = x and r^2 underflows, which as a
  // multiply made sigmoid's and softplus's forward and backward 1.4-1.8x slower (1.0x now).
  return V(1) + XACT_OPQ(simd::fma(simd::mul_fma(r, r), exp_poly_fit(r), r));
}

// k from tk (above): the integer sits in the low mantissa bits of tk.
template <class V>
XACT_INLINE simd::int_t<V> exp_k(const V& tk) noexcept {
  using C = exp_constants<simd::scalar_t<V>>;
  return simd::to_bits(tk) - simd::to_bits(V(C::round_magic));
}

// p 2^k for p and p 2^k normal numbers: k added to p's exponent field, exact. The bits of tk
// shifted left by the mantissa width are k's, since the magic constant's bits vanish there
// (its low 9 (float) / 12 (double) bits are 0); unsigned, so the wrap-around is defined.
template <class V>
XACT_INLINE V exp_scale_normal(const V& p, const V& tk) noexcept {
  using C = exp_constants<simd::scalar_t<V>>;
  using I = simd::int_t<V>;
  if constexpr (simd::is_vector_v<V>) {
    return simd::from_bits<V>(simd::to_bits(p) + (simd::to_bits(tk) << C::mantissa_bits));
  } else {
    using U = std::make_unsigned_t<I>;
    const U b =
        static_cast<U>(simd::to_bits(p)) + (static_cast<U>(simd::to_bits(tk)) << C::mantissa_bits);
    return simd::from_bits<V>(static_cast<I>(b));
  }
}

// |x| <= normal_limit: e^x = p 2^k with 2^k and the result normal numbers (k + bias >= 2 and
// p >= 0.7), so one exact scaling gives the same bits as the two-step scaling of the general
// path. float: 86.5 log2e < 124.8; double: 705 log2e < 1017.1.
template <class S>
constexpr S exp_normal_limit() noexcept {
  return sizeof(S) == 4 ? S(86.5) : S(705);
}

// Below this x, e^x is below the smallest normal number (float 2^-126, double 2^-1022): where
// sigmoid's and softplus's derivatives (and sigmoid itself) are e^x to within 2^-125 / 2^-1021.
template <class S>
constexpr S exp_subnormal_cut() noexcept {
  return sizeof(S) == 4 ? S(-87.5) : S(-708.5);
}

// e^x for every x, the general path (see math::exp): clamped, 2^k applied by scale_rounded.
template <class V>
inline V exp_general(const V& x) noexcept {
  using C = exp_constants<simd::scalar_t<V>>;
  // xn keeps NaN (x second in min/max); xk drops it. For non-NaN x they are equal.
  const V xn = simd::max(V(C::lo), simd::min(V(C::hi), x));
  const V xk = simd::max(simd::min(x, V(C::hi)), V(C::lo));
  V tk;
  const V p = exp_reduce(xk, xn, tk);
  // p 2^k rounded once, also when the result is subnormal or overflows (p in [0.7, 1.42]).
  return scale_rounded_mid(p, exp_k(tk));
}

// e^x for |x| <= exp_normal_limit (precondition): the fast path of math::exp, the general
// path's bits. For callers that choose the path themselves (sigmoid).
template <class V>
XACT_INLINE V exp_normal(const V& x) noexcept {
  V tk;
  const V p = exp_reduce(x, x, tk);
  return exp_scale_normal(p, tk);
}

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
XACT_INLINE V exp_split(const V& x, V& lo, V& kf) noexcept {
  using C = exp_split_constants<simd::scalar_t<V>>;
  // xn keeps NaN (x second); xk drops it so that kf is always a finite integer.
  const V xn = simd::max(V(C::lo), simd::min(V(0), x));
  const V xk = simd::max(simd::min(x, V(0)), V(C::lo));
  // XACT_OPQ: under -ffast-math the rounding to an integer and the Fast2Sums below would fold
  // away (without an fma kf = xk log2e, not an integer).
  kf = XACT_OPQ(simd::fma(xk, V(C::log2e), V(C::round_magic))) - V(C::round_magic);
  V r = XACT_OPQ(simd::fma(-kf, V(C::ln2_hi), xn));  // exact
  r = XACT_OPQ(simd::fma(-kf, V(C::ln2_mid), r));
  if constexpr (C::ln2_lo != 0) r = XACT_OPQ(simd::fma(-kf, V(C::ln2_lo), r));
  // e^r = 1 + r + w, w = r^2 q(r) (math::exp's polynomial), summed as hi + lo without the
  // rounding of 1 + (r + w): only w's own rounding (|w| <= 0.07) and r's are left.
  const V w = (r * r) * math::detail::exp_poly_q(r);
  const V s = XACT_OPQ(r + w);
  const V sl = XACT_OPQ(r - s) + w;  // Fast2Sum: |r| >= |w|
  const V hi = XACT_OPQ(V(1) + s);
  lo = XACT_OPQ(XACT_OPQ(V(1) - hi) + s) + sl;  // Fast2Sum: 1 >= |s|
  return hi;
}

// k from an integer-valued kf (exp_split's), and v * 2^kf rounded once (also into the
// subnormals: scale_rounded, whose preconditions apply).
template <class V>
XACT_INLINE simd::int_t<V> split_k(const V& kf) noexcept {
  const V magic = V(exp_split_constants<simd::scalar_t<V>>::round_magic);
  return simd::to_bits(kf + magic) - simd::to_bits(magic);
}
template <class V>
XACT_INLINE V scale2(const V& v, const V& kf) noexcept {
  return scale_rounded(v, split_k(kf));
}

// dy (vh + vl) 2^k rounded once more after the product's own rounding (<= 1/2 ulp of the
// product, then scale_rounded's rounding: about 1 ulp in all, also in the subnormals), for every
// dy (0, subnormal, huge, +-inf, NaN) and vh + vl with |vh| in [2^-8, 2^12] (vl below ulp(vh)),
// k an integer-valued V with |k| < 2^20. The derivative tails (sigmoid, tanh, softplus, swish,
// x_min_exp backward where f'(x) is below the normal range): dy f'(x) is formed with f'(x) as a
// significand and an exponent, so neither a subnormal f'(x) nor a huge dy loses what the product
// keeps (loss-scaled gradients: dy = 2^16 g and f'(x) ~ 2^-140 give a normal dx), and nothing
// subnormal is computed on the way.
// With Low = false, vl is taken as 0 (not read); k an integer batch (or scalar), |k| < 2^20.
template <bool Low, class V>
XACT_INLINE V mul_scaled_k(const V& dy, const V& vh, const V& vl,
                           const simd::int_t<V>& k) noexcept {
  using S = simd::scalar_t<V>;
  using C = exp_constants<S>;
  using I = simd::int_t<V>;
  constexpr int M = C::mantissa_bits, B = C::bias;
  const auto prod = [&](const V& a) { return Low ? simd::fma(a, vh, a * vl) : a * vh; };
  // Every |dy| in [2^-60, 2^60] (the common case; NaN excluded): dy (vh + vl) is a normal
  // number, scaled as it is (a k far below the range is scale_rounded's to clamp). The bits of
  // the general steps below (which scale it by 2^-j first).
  const V ady = simd::abs(dy);
  if (simd::all((ady >= V(S(0x1p-60))) & (ady <= V(S(0x1p60)))))
    return scale_rounded(prod(dy), imin(k, I(2 * B - 3)));
  const I emask = I(2 * B + 1) << M;
  // dy = m 2^j, |m| in [1, 2): a subnormal dy (or 0) is first scaled by 2^(M + 2) (exact).
  const auto sub = (simd::to_bits(dy) & emask) == I(0);
  const I up = iselect(sub, I(M + 2), I(0));
  const V d = dy * simd::from_bits<V>((up + I(B)) << M);
  const I db = simd::to_bits(d);
  const I j = ((db & emask) >> M) - I(B) - up;
  const V m = simd::from_bits<V>((db & ~emask) | (I(B) << M));
  // k + j, kept where scale_rounded's results are decided (beyond, 0 or overflow either way).
  const I kk = imax(imin(k + j, I(2 * B - 3)), I(3 - 2 * B));
  const V r = scale_rounded(prod(m), kk);
  // dy = +-inf or NaN: the plain product (+-inf, or NaN).
  return simd::select(ady <= V(std::numeric_limits<S>::max()), r, dy * (Low ? vh + vl : vh));
}
// k as an integer-valued V (exp_split's kf).
template <class V>
XACT_INLINE V mul_scaled(const V& dy, const V& vh, const V& vl, const V& kf) noexcept {
  return mul_scaled_k<true>(dy, vh, vl, split_k(kf));
}

// g e / (d + de), for e a normal number in (0, 1] and d + de a double-word with d in [1/4, 4]
// (the derivatives of sigmoid and tanh: dy e / (1 + e)^2): the product g e exact to twice the
// working precision, q0 = n (1/d), one correction by the residual n + ne - q0 (d + de), rounded
// once at the end. n and 1/d are returned for the caller's special lanes.
template <class V>
XACT_INLINE V quotient_dd(const V& g, const V& e, const V& d, const V& de, V& n, V& rd) noexcept {
  V ne;
  n = simd::two_prod(g, e, ne);
  rd = simd::div(V(1), d);
  const V q0 = n * rd;
  return simd::fma(simd::fnma(q0, de, simd::residual(q0, d, n) + ne), rd, q0);
}

// quotient_dd for any dy, where the error terms of dy e would leave the normal range: |dy| >
// 2^64 (they could overflow: FLT_MAX gave NaN; dy = +-inf the product itself, +-inf) is scaled
// by 2^-64 first, and a tiny product (|dy e| below 2^-90 float / 2^-960 double, where the error
// terms are subnormal and lose their bits: 5 ulp at a result near FLT_MIN) by 2^64 / 2^128;
// the result is scaled back (exact, or the one rounding into the subnormals).
// Below this |dy e| the error terms of quotient_dd are subnormal.
template <class S>
constexpr S quotient_dd_tiny() noexcept {
  return sizeof(S) == 4 ? S(0x1p-90) : S(0x1p-960);
}

template <class V>
XACT_COLD V quotient_dd_scaled(const V& dy, const V& e, const V& d, const V& de) noexcept {
  using S = simd::scalar_t<V>;
  constexpr S up = sizeof(S) == 4 ? S(0x1p64) : S(0x1p128);
  constexpr S tiny = quotient_dd_tiny<S>();
  const V ady = simd::abs(dy);
  const auto big = ady > V(S(0x1p64));
  const auto small = simd::abs(dy * e) < V(tiny);
  const V g = simd::select(big, dy * V(S(0x1p-64)), simd::select(small, dy * V(up), dy));
  V n, rd;
  V out = quotient_dd(g, e, d, de, n, rd);
  // dy = +-inf: the error terms are inf - inf (NaN); the product itself is the answer.
  out = simd::select(simd::abs(n) == V(std::numeric_limits<S>::infinity()), n * rd, out);
  return simd::select(big, out * V(S(0x1p64)), simd::select(small, out * V(S(1) / up), out));
}

// dy e / (d + de) (see quotient_dd) for every dy: 0, tiny, huge, +-inf, NaN. A batch whose
// results and dy are in range (the common case) keeps quotient_dd's result, which equals the
// scaled path's there.
template <class V>
XACT_INLINE V mul_quotient_dd(const V& dy, const V& e, const V& d, const V& de) noexcept {
  using S = simd::scalar_t<V>;
  constexpr S tiny = quotient_dd_tiny<S>();
  V n, rd;
  const V out = quotient_dd(dy, e, d, de, n, rd);
  // False for a NaN result (dy = +-inf, or NaN) too: that batch takes the scaled path.
  if (simd::all(((simd::abs(n) >= V(tiny)) | (dy == V(0))) & (simd::abs(dy) <= V(S(0x1p64)))))
    return out;
  return simd::per_batch([](const auto& gb, const auto& eb, const auto& db,
                            const auto& deb) { return quotient_dd_scaled(gb, eb, db, deb); },
                         dy, e, d, de);
}

}  // namespace detail

// e^x for every x: +inf above the overflow threshold (and only there), subnormal results
// rounded once (never built from a subnormal intermediate), 0 below half the smallest
// subnormal, e^-inf = 0, e^+inf = +inf, NaN propagates.
// Two paths with identical results where both apply: when every lane has |x| <= 86.5 (float;
// 705 double), no clamp and one exact scaling by 2^k; otherwise (a batch with a lane near or
// beyond the subnormal or overflow range, or NaN) the general path. A lane's bits never depend
// on its neighbours (the paths agree bit for bit; the tests check it).
// Error (tests/test_math.cpp, strict ULP): float <= 1 ulp over all 2^32 inputs, double <= 1 ulp
// on the strided walk.
template <class V>
XACT_INLINE V exp(const V& x) noexcept {
  using S = simd::scalar_t<V>;
  // !(|x| <= limit) is true for NaN too.
  // False for NaN too: NaN takes the general path.
  if (!simd::all(simd::abs(x) <= V(detail::exp_normal_limit<S>())))
    return simd::per_batch([](const auto& b) { return detail::exp_general(b); }, x);
  return detail::exp_normal(x);
}

// e^x for x <= 0 (or NaN; precondition, not checked): exp's results bit for bit, one compare
// cheaper (the fast path's test is x >= -limit alone). For e^-|t| in sigmoid, softplus, swish.
template <class V>
XACT_INLINE V exp_nonpositive(const V& x) noexcept {
  using S = simd::scalar_t<V>;
  if (!simd::all(x >= V(-detail::exp_normal_limit<S>())))
    return simd::per_batch([](const auto& b) { return detail::exp_general(b); }, x);
  return detail::exp_normal(x);
}

// e^x 2^N rounded once, for 0 <= N <= 8: exp's steps with N added to k, so a result that lands
// in the subnormals is rounded there once, not as e^x first and then scaled. The low clamp is
// 6 lower than exp's (8 ln2 < 6), so e^lo 2^N still rounds to 0.
// Error: as exp's (the same steps; only the final scaling differs).
template <int N, class V>
XACT_INLINE V exp_scaled(const V& x) noexcept {
  static_assert(N >= 0 && N <= 8, "exp_scaled: 0 <= N <= 8");
  using S = simd::scalar_t<V>;
  using C = detail::exp_constants<S>;
  using I = simd::int_t<V>;
  V tk;
  // As exp's two paths; 6 off the limit keeps 2^(k + N) normal (8 ln2 < 6).
  if (!simd::all(simd::abs(x) <= V(detail::exp_normal_limit<S>() - S(6)))) {
    const V lo = V(C::lo) - V(6);
    const V xn = simd::max(lo, simd::min(V(C::hi), x));
    const V xk = simd::max(simd::min(x, V(C::hi)), lo);
    const V p = detail::exp_reduce(xk, xn, tk);
    return detail::scale_rounded_mid(p, detail::exp_k(tk) + I(N));
  }
  const V p = detail::exp_reduce(x, x, tk);
  return detail::exp_scale_normal(p * V(S(1 << N)), tk);
}

// e^x - 1 for every x, without the cancellation of exp(x) - 1 near 0. x = k ln2 + r + rl (r's
// rounding error rl kept), e^x = 2^k (1 + r + c) with c = rl (1 + r) + r^2 q(r) (exp's
// polynomial); then e^x - 1 = ((2^k - 1) + 2^k r) + 2^k c, the first sum kept exact (Fast2Sum:
// |2^k - 1| >= |2^k r| for |r| < 0.35, or 2^k - 1 = 0) and one rounding at the end. 2^k - 1 is
// exact for |k| <= mantissa bits (beyond, the -1 or the 2^k is below half an ulp). 2^k is
// applied as 2^k1 2^k2 (both normal) so nothing overflows before the true result does.
// expm1(+-0) = +-0, expm1(-inf) = -1, expm1(+inf) = +inf, NaN propagates.
// Error (tests/test_math_ext.cpp, strict ULP): float <= 1 ulp, double <= 1 ulp (strided walks).
template <class V>
XACT_INLINE V expm1(const V& x) noexcept {
  using S = simd::scalar_t<V>;
  using C = detail::exp_constants<S>;
  using I = simd::int_t<V>;
  // Below lo, e^x < 2^-60 (float) / 2^-115 (double): the result is -1 rounded.
  const V lo = V(sizeof(S) == 4 ? S(-42) : S(-80));
  const V xn = simd::max(lo, simd::min(V(C::hi), x));  // keeps NaN (flows into r)
  const V xk = simd::max(simd::min(x, V(C::hi)), lo);  // drops NaN (k is read from it)
  // opaque: under -ffast-math, (t + magic) - magic must not fold back to t.
  const V tk = simd::opaque(simd::fma(xk, V(C::log2e), V(C::round_magic)));
  const V kf = tk - V(C::round_magic);
  const I k = simd::to_bits(tk) - simd::to_bits(V(C::round_magic));
  // opaque (no-op unless -ffast-math): each step below evaluated as written (reassociated,
  // expm1 of a tiny x came out as 3x or r^2/2 with GCC 12 -O3 -ffast-math).
  const V rh = simd::opaque(simd::fma(-kf, V(C::ln2_hi), xn));  // exact: k ln2_hi has few bits
  V rl;
  const V r = simd::fast_two_sum(rh, -(kf * V(C::ln2_lo)), rl);
  // The products below that see a subnormal x (r = x, the result x 2^0) as fmas (simd::mul_fma,
  // the same bits), not multiplies at the hardware's slow path (3.2-3.7x the normal time).
  const V c = simd::fma(simd::mul_fma(r, r), detail::exp_poly_q(r), simd::fma(rl, r, rl));
  const I k1 = k >> 1;
  const I k2 = k - k1;
  const V s1 = detail::pow2i<V>(k1);
  // 2^k (1 + r + c) - 1 = (A + s1 r + s1 c) 2^k2 with A = 2^k1 - 2^-k2: exact scalings.
  const V a = simd::opaque(s1 - detail::pow2i<V>(I(0) - k2));
  const V b = simd::opaque(simd::mul_fma(s1, r));
  V sl;
  const V sh = simd::fast_two_sum(a, b, sl);
  const V res =
      simd::mul_fma(simd::opaque(sh + simd::opaque(simd::fma(s1, c, sl))), detail::pow2i<V>(k2));
  return simd::select(x == V(0), x, res);  // keeps -0 (the sum rounds -0 to +0)
}

namespace detail {

// log(u + c) for u > 0 finite, |c| <= ulp(u)/2 (the exact remainder of a rounded 1 + x):
// u = 2^k m with m in [sqrt2/2, sqrt2), f = m - 1 (exact), s = f / (2 + f), and
// log(1 + f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R(s^2))) with R the atanh series tail
// (Taylor coefficients 2/(2n+1): s^2 <= 0.0295, so 4 terms leave < 2^-27 relative for float,
// 10 terms < 2^-56 for double). s's rounding only reaches the small s * (...) term.
// c enters as c/u = c 2^-k / (1 + f), with 1/(1 + f) = (1 - s)/(1 + s) ~ 1 - 2s + 2s^2
// (relative error 2s^3 < 0.011 on a term below 1.5 ulp of the result).
template <class V>
XACT_INLINE V log_core(const V& u, const V& c) noexcept {
  using S = simd::scalar_t<V>;
  using C = exp_constants<S>;
  using I = simd::int_t<V>;
  // sqrt(2)/2 rounded down, as bits: subtracting it maps m in [sqrt2/2, sqrt2) to exponent 0.
  const I off = simd::to_bits(V(sizeof(S) == 4 ? S(0x1.6a09e6p-1f) : S(0x1.6a09e667f3bccp-1)));
  const I one = simd::to_bits(V(1));
  const I mant = (I(1) << C::mantissa_bits) - I(1);
  const I iu = simd::to_bits(u) - off;
  const I k = iu >> C::mantissa_bits;  // u = 2^k m
  const V m = simd::from_bits<V>((iu & mant) + off);
  const V f = m - V(1);
  const V s = simd::div(f, V(2) + f);
  const V z = s * s;
  V R;
  if constexpr (sizeof(S) == 4) {
    R = V(0x1.c71c72p-3f);                   // 2/9
    R = simd::fma(R, z, V(0x1.24924ap-2f));  // 2/7
    R = simd::fma(R, z, V(0x1.99999ap-2f));  // 2/5
    R = simd::fma(R, z, V(0x1.555556p-1f));  // 2/3
  } else {
    R = V(0x1.8618618618618p-4);                   // 2/21
    R = simd::fma(R, z, V(0x1.af286bca1af28p-4));  // 2/19
    R = simd::fma(R, z, V(0x1.e1e1e1e1e1e1ep-4));  // 2/17
    R = simd::fma(R, z, V(0x1.1111111111111p-3));  // 2/15
    R = simd::fma(R, z, V(0x1.3b13b13b13b14p-3));  // 2/13
    R = simd::fma(R, z, V(0x1.745d1745d1746p-3));  // 2/11
    R = simd::fma(R, z, V(0x1.c71c71c71c71cp-3));  // 2/9
    R = simd::fma(R, z, V(0x1.2492492492492p-2));  // 2/7
    R = simd::fma(R, z, V(0x1.999999999999ap-2));  // 2/5
    R = simd::fma(R, z, V(0x1.5555555555555p-1));  // 2/3
  }
  R = R * z;
  const V hfsq = V(0.5) * f * f;
  // c 2^-k: 2^-k is a normal number for every k below 2^100; above, c/u is far below an ulp.
  const V scale = simd::from_bits<V>(one - detail::shift_left<C::mantissa_bits>(k));
  // c is subnormal for a subnormal x (u = 1): both products as fmas (simd::mul_fma, the same
  // bits), not multiplies at the hardware's slow path (log1p ran 2.9-3.0x the normal time).
  const V cs = simd::select(u < V(S(0x1p100)), simd::mul_fma(c, scale), V(0));
  const V corr = simd::mul_fma(cs, simd::fma(V(2) * s, s - V(1), V(1)));
  const V kf = simd::from_bits<V>(k + simd::to_bits(V(C::round_magic))) - V(C::round_magic);
  // opaque (no-op unless -ffast-math): the sums in the order written.
  const V lo = simd::opaque(simd::fma(kf, V(C::ln2_lo), corr)) + simd::opaque(s * (hfsq + R));
  return simd::fma(kf, V(C::ln2_hi), f - simd::opaque(hfsq - simd::opaque(lo)));
}

}  // namespace detail

// log(1 + x) for every x, accurate near 0: u = 1 + x rounded, c = (1 + x) - u exactly (TwoSum),
// then log(u + c). log1p(+-0) = +-0, log1p(-1) = -inf, log1p(x < -1) = NaN, log1p(+inf) = +inf,
// NaN propagates.
// Error (tests/test_math_ext.cpp, strict ULP): float <= 1 ulp, double <= 1 ulp (strided walks).
template <class V>
XACT_INLINE V log1p(const V& x) noexcept {
  using S = simd::scalar_t<V>;
  V c;
  const V u = simd::two_sum(V(1), x, c);
  // u <= 0, inf or NaN: the core's bit tricks do not apply; pick the answer afterwards.
  const V ok = simd::select((u > V(0)) & (u < V(std::numeric_limits<S>::infinity())), u, V(1));
  const V res = detail::log_core(ok, c);
  const V inf = V(std::numeric_limits<S>::infinity());
  V special = simd::select(u == V(0), -inf, x + inf);  // +inf (x = +inf), NaN (x NaN)
  special = simd::select(u < V(0), V(std::numeric_limits<S>::quiet_NaN()), special);
  return simd::select(x == V(0), x, simd::select(ok == u, res, special));
}

}  // namespace math
}  // namespace xact

XACT_DIAGNOSTICS_END
