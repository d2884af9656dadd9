// softmax       y_i = e^(x_i) / sum_j e^(x_j)            along one axis of [outer, axis, inner]
// log_softmax   y_i = x_i - log sum_j e^(x_j)
//   backward  softmax       dx = y * (dy - sum(dy * y))                              reads y, dy
//             log_softmax   dx = dy - e^y * sum(dy)                                  reads y, dy
//   O(axis) per row, never a Jacobian.
//
//   Stable form: everything is taken relative to the row max m, so e^ never sees a positive
//   argument, nothing overflows for any finite input, and x + 1e4 gives bit for bit the answer
//   of x (when both are exact).
//   Algorithm (rowwise::normalize): pass 1 max, pass 2 t = e^(x - m) written to y and summed,
//   pass 3 y = t / s (t k0 + t k1, below): one exp per element. Measured (float, AVX2, thread CPU
//   time) against three passes with e^ taken twice: 1.17 vs 2.0 ns/element at rows of 1024, 1.17
//   vs 1.95 at 32768, 1.44 vs 2.05 at 2^20 (DRAM): the stored-exp variant wins everywhere. The
//   online normalizer (Milakov & Gimelshein) also takes e^ twice per element (or rescales stored
//   terms, losing accuracy), so it cannot beat it while e^ dominates.
//   log_softmax does not store t: pass 3 writes (x - m) - log s from x.
//   x - m is rounded, and its rounding error e (TwoSum) would cost up to ~20 ulp in e^(x - m)
//   (measured by removing it): e^(d + e) is taken as e^d + e^d * e instead. The sum of the
//   terms (all in [0, 1]) is exact-compensated (Fast2Sum against a running sum started at 1).
//   softmax: 1/s is formed once per row in wider precision (double for float, long double for
//   double) as k0 + k1, and y = fma(t, k0, t k1) rounds once: as t * RN(1/s) it rounded twice,
//   and 1/s's rounding is worth up to 1 ulp of y where y's significand is near 2 (fuzzing found
//   4 ulp in float, y = 0x1.fea706p-45, row of 418). One multiply more per element.
//   log_softmax: log s is taken as log1p(s - 1) in the wider precision and split into hi + lo,
//   so log s keeps its relative accuracy when one entry dominates and log_softmax of that entry
//   is near 0 (no absolute floor needed). s - 1 must be relatively accurate then: the other
//   terms, each below half an ulp of the running 1, all land in the compensation part of the
//   sum, which log_softmax accumulates with its own TwoSum (rowwise::unit_sum, exact_sum; as a
//   plain sum it gave y = -log1p(s - 1) up to 891 ulp of error in float, 590 in double, on a
//   row of 4099 entries around -18 below one 0; softmax does not need it: its 1/s needs s,
//   not s - 1, accurate). Its cost, 5 flops per element (float, AVX2, [256, L] and [8, L, 32],
//   L = 1024 / 32768, process CPU time on a loaded machine): log_softmax forward ~1.45 ->
//   ~1.65 ns/element at 1024, ~2.6 -> ~2.9 at 32768 (inner 32); softmax unchanged within noise.
//   Backward: sum(dy * y) is a compensated dot product (two_prod errors folded in, Dot2);
//   sum(dy) compensated.
//
//   Values (documented choices, tested in tests/test_softmax.cpp):
//   - x_i = -inf in a row with a finite entry: softmax 0 exactly, log_softmax -inf; gradients
//     finite (softmax: 0; log_softmax: dy_i, the exact derivative of x_i - logsumexp).
//   - a row of all -inf: softmax all 0 (as PyTorch's attention path and ONNX), log_softmax all
//     -inf (= log of that 0, so exp(log_softmax) = softmax holds); gradients all 0.
//   - a row with +inf: all NaN (as PyTorch). The limit depends on how the infinite entries
//     grow relative to each other (1/k each only if they grow alike), so no value is right.
//   - a row with NaN: all NaN.
//   - axis 1: softmax 1, log_softmax 0 (gradients 0). axis 0: nothing written.
//   Error (strict ULP vs a long-double reference, tests/test_softmax.cpp, rows of lengths 1 to
//   4099, scales 1 to 760 incl. subnormal outputs, inner 1/3/W/17, AVX2 and SSE2 builds):
//   softmax float <= 3, double <= 3 (measured 2 with an fma, 3 on SSE2; subnormal outputs
//   count): t = e^(x - m) rounds (up to ~1.2 ulp of t measured: exp's error, then the
//   correction's rounding), which is up to 2.4 ulp of y where t's significand is near 1 and y's
//   near 2, then y rounds once (twice without an fma: t k0 and the sum).
//   log_softmax float <= 1, double <= 1, but <= 2 for the row max's own y = -log1p(s - 1)
//   where one or two other terms make up s - 1: their exp rounding (up to ~1.2 ulp of t) is
//   not averaged away there (fuzzing: 2 ulp at y = -0x1.a30ee6p-10, float row of 2; 1 in
//   ~400000 random rows of 2-3). 1 including rows where one entry dominates (tests
//   DominantEntryLongRows: lengths 170 to 4099, the others' terms below 2^-25 / 2^-54, random
//   or all equal), with one absolute floor: terms below T's normal range (x more than 87 / 708
//   below the max) round to the subnormal spacing, so the max's y = -log1p(s - 1) may be off
//   by up to (n - 1) spacings (measured 0.25 per term or less beyond n = 16: 3 ulp in float,
//   11 in double, where |y| itself is subnormal); it shows only where |y| < ~n * T's smallest
//   normal (open: such terms would need a scaled second sum).
//   Gradients, in ulps of the condition scale y(|dy| + |sum dy y|) (softmax) or
//   |dy| + e^y |sum dy| (log_softmax): <= 1.9 measured (bound 3), float and double.
#pragma once

#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "../core/math.hpp"
#include "../core/rowwise.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

namespace detail {

// e^(x - c) for c >= x (c the row max, or 0 for a row of -inf), with the rounding error of
// x - c put back: e^(d + e) = e^d (1 + e) to within e^2.
template <class V>
inline V exp_shifted(const V& x, const V& c) noexcept {
  // TwoSum(x, -c): exact error of the subtraction whichever operand is larger. opaque (a no-op
  // unless -ffast-math, see simd.hpp): each step as written, or e would fold to 0.
  const V d = simd::opaque(x - c);
  const V bb = simd::opaque(d - x);
  V e = simd::opaque(x - simd::opaque(d - bb)) + simd::opaque(-c - bb);
  // Not finite: x = -inf (inf - inf), or |x|, |c| near the overflow threshold with d - x
  // overflowing (a row spanning more than the type's range; d <= -max/2 then, e^d = 0): the
  // correction is 0 either way (fuzzing found the second case).
  e = simd::select(simd::abs(e) < V(std::numeric_limits<simd::scalar_t<V>>::infinity()), e, V(0));
  const V p = math::exp_nonpositive(d);  // d <= 0 or NaN
  return simd::fma(p, e, p);
}

template <class V>
inline V center(const V& m) noexcept {
  // A row of -inf: centre at 0, so the terms are e^-inf = 0 rather than e^NaN.
  return simd::select(m == V(-std::numeric_limits<simd::scalar_t<V>>::infinity()), V(0), m);
}

template <class T>
using log_wide_t = std::conditional_t<sizeof(T) == 4, double, long double>;

}  // namespace detail

struct softmax {
  static constexpr bool stores_terms = true;  // forward pass 2 writes e^(x - m) to y
  static constexpr bool unit_terms = true;    // e^(x - m) <= 1: the cheap exact sum applies
  static constexpr bool exact_sum = false;    // 1/s needs s, not s - 1, accurate
  static constexpr bool needs_max = false;    // backward does not need max(y)

  template <class V>
  V center(const V& m) const noexcept {
    return detail::center(m);
  }
  template <class V>
  V term(const V& x, const V& c) const noexcept {
    return detail::exp_shifted(x, c);
  }
  // k0 + k1 = 1 / s, s = 1 + e, in about twice the working precision (taken in the wider
  // type, once per row): y = t k0 + t k1 then rounds once (with an fma) where t * RN(1/s)
  // rounded twice, 1/s's rounding worth up to 1 ulp of y (fuzzing found 4 ulp in float, bound
  // 3). s >= 1 unless the row is all -inf (e = -1, s = 0: zeros) or has NaN/+inf (NaN).
  template <class T>
  void row_constants(T /*c*/, T e, T el, T (&k)[2]) const noexcept {
    using W = detail::log_wide_t<T>;
    const W sum = W(1) + (static_cast<W>(e) + static_cast<W>(el));
    if (sum == W(0)) {
      k[0] = k[1] = T(0);
      return;
    }
    const W q = W(1) / sum;
    // opaque (a no-op unless -ffast-math): W(T(q)) must not fold back to q (k[1] = 0).
    k[0] = static_cast<T>(q);
    k[1] = static_cast<T>(q - static_cast<W>(simd::opaque(k[0])));
  }
  template <class V>
  V finish(const V& t, const V& /*c*/, const V& k0, const V& k1) const noexcept {
    return simd::fma(t, k0, t * k1);
  }

  // backward: sum(dy * y) as an exact product sum (two_prod error into the compensation).
  template <class V>
  V grad_term(const V& y, const V& dy, V& err) const noexcept {
    return simd::two_prod(dy, y, err);
  }
  template <class T>
  void grad_constants(T /*max_y*/, T s, T sc, T (&k)[2]) const noexcept {
    k[0] = s + sc;
  }
  template <class V>
  V grad(const V& y, const V& dy, const V& k0, const V& /*k1*/) const noexcept {
    return y * (dy - k0);
  }
};

struct log_softmax {
  static constexpr bool stores_terms = false;
  static constexpr bool unit_terms = true;
  static constexpr bool exact_sum = true;  // log1p(s - 1): s - 1 relatively accurate
  static constexpr bool needs_max = true;  // to recognise a row of all -inf from y

  template <class V>
  V center(const V& m) const noexcept {
    return detail::center(m);
  }
  template <class V>
  V term(const V& x, const V& c) const noexcept {
    return detail::exp_shifted(x, c);
  }
  // k0 + k1 = log s = log1p(e) in about twice the working precision; 0 for a row of all -inf
  // (e = -1, s = 0), so that row gives (-inf - 0) = -inf.
  template <class T>
  void row_constants(T /*c*/, T e, T el, T (&k)[2]) const noexcept {
    using W = detail::log_wide_t<T>;
    if (T(1) + (e + el) == T(0)) {
      k[0] = k[1] = T(0);
      return;
    }
    // log1p of the excess e = s - 1 (the other terms' sum, summed exactly: exact_sum) keeps L
    // relatively accurate when s is near 1 and L near 0 (a dominant entry), where log of s
    // would lose the low bits of s - 1.
    const W l = std::log1p(static_cast<W>(e) + static_cast<W>(el));
    k[0] = static_cast<T>(l);
    k[1] = static_cast<T>(l - static_cast<W>(simd::opaque(k[0])));
  }
  // (x - c) - log s with x - c = d + e exactly.
  template <class V>
  V finish(const V& x, const V& c, const V& k0, const V& k1) const noexcept {
    const V d = simd::opaque(x - c);  // opaque: as in exp_shifted
    const V bb = simd::opaque(d - x);
    V e = simd::opaque(x - simd::opaque(d - bb)) + simd::opaque(-c - bb);
    // Not finite: x = -inf, or an overflow in d - x (see exp_shifted): no correction.
    e = simd::select(simd::abs(e) < V(std::numeric_limits<simd::scalar_t<V>>::infinity()), e, V(0));
    return simd::opaque(d - k0) + simd::opaque(e - k1);
  }

  template <class V>
  V grad_term(const V& /*y*/, const V& dy, V& err) const noexcept {
    err = V(0);
    return dy;
  }
  // k0 = sum(dy); k1 = 0 for a row of all -inf (gradient 0 there), else 1.
  template <class T>
  void grad_constants(T max_y, T s, T sc, T (&k)[2]) const noexcept {
    k[0] = s + sc;
    k[1] = max_y == -std::numeric_limits<T>::infinity() ? T(0) : T(1);
  }
  template <class V>
  V grad(const V& y, const V& dy, const V& k0, const V& k1) const noexcept {
    return simd::fma(-math::exp(y), k0, dy * k1);
  }
};

// ---- API -----------------------------------------------------------------------------------
// Pointer forms over a contiguous [outer, axis, inner] array (inner = 1: the last axis).
// y may be x; dx may be y or dy; anything else must not overlap.

template <class A = xsimd::default_arch, class T>
inline void softmax_forward(const T* x, T* y, std::size_t outer, std::size_t axis,
                            std::size_t inner = 1) {
  rowwise::normalize<A>(softmax{}, x, y, row_shape{outer, axis, inner});
}
template <class A = xsimd::default_arch, class T>
inline void softmax_backward(const T* y, const T* dy, T* dx, std::size_t outer, std::size_t axis,
                             std::size_t inner = 1) {
  rowwise::normalize_backward<A>(softmax{}, y, dy, dx, row_shape{outer, axis, inner});
}
template <class A = xsimd::default_arch, class T>
inline void log_softmax_forward(const T* x, T* y, std::size_t outer, std::size_t axis,
                                std::size_t inner = 1) {
  rowwise::normalize<A>(log_softmax{}, x, y, row_shape{outer, axis, inner});
}
template <class A = xsimd::default_arch, class T>
inline void log_softmax_backward(const T* y, const T* dy, T* dx, std::size_t outer,
                                 std::size_t axis, std::size_t inner = 1) {
  rowwise::normalize_backward<A>(log_softmax{}, y, dy, dx, row_shape{outer, axis, inner});
}

// Range forms (std::vector, std::array, std::span, Eigen vectors): sizes checked against the
// shape, std::invalid_argument on mismatch.
namespace detail {
template <class R>
inline void check_shape(const R& r, const row_shape& sh, const char* what) {
  detail::check_sizes(detail::range_size(r), sh.size(), what);
}
}  // namespace detail

template <class A = xsimd::default_arch, class X, class Y,
          std::enable_if_t<detail::is_plain_range_v<X> && detail::is_plain_range_v<Y>, int> = 0>
inline void softmax_forward(const X& x, Y&& y, const row_shape& sh) {
  detail::check_shape(x, sh, "x and shape");
  detail::check_shape(y, sh, "y and shape");
  rowwise::normalize<A>(softmax{}, x.data(), y.data(), sh);
}
template <class A = xsimd::default_arch, class Yr, class DY, class DX,
          std::enable_if_t<detail::is_plain_range_v<Yr> && detail::is_plain_range_v<DY> &&
                               detail::is_plain_range_v<DX>,
                           int> = 0>
inline void softmax_backward(const Yr& y, const DY& dy, DX&& dx, const row_shape& sh) {
  detail::check_shape(y, sh, "y and shape");
  detail::check_shape(dy, sh, "dy and shape");
  detail::check_shape(dx, sh, "dx and shape");
  rowwise::normalize_backward<A>(softmax{}, y.data(), dy.data(), dx.data(), sh);
}
template <class A = xsimd::default_arch, class X, class Y,
          std::enable_if_t<detail::is_plain_range_v<X> && detail::is_plain_range_v<Y>, int> = 0>
inline void log_softmax_forward(const X& x, Y&& y, const row_shape& sh) {
  detail::check_shape(x, sh, "x and shape");
  detail::check_shape(y, sh, "y and shape");
  rowwise::normalize<A>(log_softmax{}, x.data(), y.data(), sh);
}
template <class A = xsimd::default_arch, class Yr, class DY, class DX,
          std::enable_if_t<detail::is_plain_range_v<Yr> && detail::is_plain_range_v<DY> &&
                               detail::is_plain_range_v<DX>,
                           int> = 0>
inline void log_softmax_backward(const Yr& y, const DY& dy, DX&& dx, const row_shape& sh) {
  detail::check_shape(y, sh, "y and shape");
  detail::check_shape(dy, sh, "dy and shape");
  detail::check_shape(dx, sh, "dx and shape");
  rowwise::normalize_backward<A>(log_softmax{}, y.data(), dy.data(), dx.data(), sh);
}

// One row: the whole range is a single softmax over its length.
template <class A = xsimd::default_arch, class X, class Y,
          std::enable_if_t<detail::is_plain_range_v<X> && detail::is_plain_range_v<Y>, int> = 0>
inline void softmax_forward(const X& x, Y&& y) {
  softmax_forward<A>(x, y, row_shape{1, detail::range_size(x), 1});
}
template <class A = xsimd::default_arch, class X, class Y,
          std::enable_if_t<detail::is_plain_range_v<X> && detail::is_plain_range_v<Y>, int> = 0>
inline void log_softmax_forward(const X& x, Y&& y) {
  log_softmax_forward<A>(x, y, row_shape{1, detail::range_size(x), 1});
}

}  // namespace xact

XACT_DIAGNOSTICS_END
