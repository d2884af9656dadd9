// xact/core/accumulate.hpp: compensated (Neumaier) summation, lane-wise over V, for the drivers
// that reduce (parameter gradients, softmax sums, batch statistics). The error of a sum of n
// terms is about 2 eps |sum| + n eps^2 sum|x_i| instead of n eps sum|x_i|: a million float terms
// sum as accurately as a handful.
#pragma once

#include <cstddef>
#include <limits>

#include "simd.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

template <class V>
struct compensated_sum {
  V s = V(0);
  V c = V(0);

  void add(const V& v) noexcept {
    // opaque (a no-op unless -ffast-math, see simd.hpp): -fassociative-math would otherwise
    // fold (s - (s + v)) + v to 0 and drop the compensation (a million float terms: 12 ulp).
    const V t = simd::opaque(s + v);
    // The low-order bits lost by s + v, from whichever operand is larger in magnitude.
    c = c + simd::select(simd::abs(s) >= simd::abs(v), simd::opaque(s - t) + v,
                         simd::opaque(v - t) + s);
    s = t;
  }
  void add(const compensated_sum& o) noexcept {
    add(o.s);
    c = c + o.c;
  }
  // An infinite term makes s infinite and c NaN (inf - inf): the sum is s then.
  V value() const noexcept {
    return simd::select(simd::abs(s) == V(std::numeric_limits<simd::scalar_t<V>>::infinity()), s,
                        s + c);
  }
};

// The lanes of a lane-wise compensated sum folded into one scalar pair (s, c), in lane order
// (the same result on every call). Callers needing more than the rounded sum keep the pair.
template <class T, class A>
inline compensated_sum<T> fold(const compensated_sum<xsimd::batch<T, A>>& acc) noexcept {
  constexpr std::size_t W = xsimd::batch<T, A>::size;
  alignas(A::alignment()) T s[W];
  alignas(A::alignment()) T c[W];
  acc.s.store_aligned(s);
  acc.c.store_aligned(c);
  compensated_sum<T> r;
  for (std::size_t i = 0; i < W; ++i) r.add(s[i]);
  for (std::size_t i = 0; i < W; ++i) r.c += c[i];
  return r;
}

// The sum of all lanes, rounded (an infinite lane sum: value() returns it, not inf - inf).
template <class T, class A>
inline T reduce(const compensated_sum<xsimd::batch<T, A>>& acc) noexcept {
  return fold(acc).value();
}
template <class T>
inline T reduce(const compensated_sum<T>& acc) noexcept {
  return acc.value();
}

}  // namespace xact

XACT_DIAGNOSTICS_END
