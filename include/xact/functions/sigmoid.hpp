// sigmoid   s(x) = 1 / (1 + e^-x)
//   forward        y  = 1/(1+e)  for x >= 0,  e/(1+e)  below, with e = e^-|x| in (0, 1]:
//                  e^ is never taken of a positive number, so nothing overflows, and for very
//                  negative x the result is e^x itself, down into the subnormals.
//                  The quotient num / (1 + e) (num = 1 or e) gets one correction by its
//                  exact residual (see forward), so the only errors left are e's and the last
//                  rounding.
//   backward_from_y   dx = dy * y(1 - y)       y - y*y by one fma, then * dy       reads y
//   backward_from_x   dx = dy e / (1 + e)^2    compensated, one final rounding      reads x
//                  s(1-s) computed from y cancels for large |x| (1 - y is 0 once y rounds to
//                  1, at x ~ 17 in float); from x, the derivative stays accurate to e^-|x|.
//   Values: s(-inf) = 0, s(+inf) = 1, s(+-0) = 0.5, s(NaN) = NaN; 0 <= s <= 1 always.
//   Error (strict ULP, see README): forward float <= 1, double <= 1;
//   backward_from_x float <= 2, double <= 2.
#pragma once

#include <limits>

#include "../core/math.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

struct sigmoid {
  // The drivers may run this code on simd::wide (several batches at once; core/elementwise.hpp).
  static constexpr bool simd_wide = true;

  // Below this x, e^x < the smallest normal number (float 2^-126, double 2^-1022).
  template <class S>
  static constexpr S subnormal_cut() noexcept {
    return math::detail::exp_subnormal_cut<S>();
  }

  // s(x) from e = e^-|x|: num / (1 + e) with num = 1 (x >= 0) or e, e in [0, 1]: q0 = num /
  // (1 + e rounded), then one correction by the residual against the exact 1 + e, num - q0 -
  // q0 e: num - q0 is exact (Sterbenz: num/2 <= q0 <= num) and the rest rounds once, relative to
  // the residual itself. The residual is scaled by rinv = 1/(1 + e) = s(|x|), which is q0 for
  // x >= 0 and 1 - q0 below (to an ulp or so: it only scales a correction of an ulp). The only
  // errors left are e's and the final rounding. rinv is returned for callers that need the
  // other quotient too (Dice's 1 - p).
  // Both selects are made on the sign bit of x (select_sign: one blend each, no compare). x =
  // +-0 gives e = 1 = num and q0 = 1/2 = 1 - q0 either way; NaN gives NaN either way. Scaling
  // the correction by 1 - q0 in every lane would save one blend, but where x >= 0 that is
  // e/(1 + e), not 1/(1 + e): the correction becomes partial (up to 1.5 ulp from the exact
  // value measured, against 0.8).
  template <class V>
  static V quotient(const V& x, const V& e, V& rinv) noexcept {
    const V num = simd::select_sign(x, e, V(1));
    const V q0 = simd::div(num, V(1) + e);
    rinv = simd::select_sign(x, V(1) - q0, q0);
    return simd::fma(simd::residual(q0, e, num - q0), rinv, q0);
  }

  template <class V>
  V forward(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V z = simd::neg_abs(x);
    V rinv;
    if (simd::all(z >= V(-math::detail::exp_normal_limit<S>())))
      return quotient(x, math::detail::exp_normal(z), rinv);
    // Every lane below the subnormal cut (forward_general's first case, for the whole group at
    // once: subnormal-heavy inputs ran 2.2x the normal time per batch).
    if (simd::all(x < V(subnormal_cut<S>()))) return math::detail::exp_general(x);
    return simd::per_batch([](const auto& xb) { return forward_general(xb); }, x);
  }

  // A batch with a lane below -exp_normal_limit (or NaN): out of line, per batch.
  template <class V>
  static XACT_COLD V forward_general(const V& x) noexcept {
    using S = simd::scalar_t<V>;
    const V z = simd::neg_abs(x);
    V rinv;
    // Every lane below ln(smallest normal): e < 2^-126 (2^-1022), so 1 + e = 1 and the
    // correction is below the subnormal spacing: the quotient is e itself, bit for bit. Taken
    // directly, without the quotient's arithmetic on subnormals (several times slower on x86).
    if (simd::all(x < V(subnormal_cut<S>()))) return math::detail::exp_general(x);
    return quotient(x, math::detail::exp_general(z), rinv);
  }

  // dy * y(1 - y): with an fma, y - y*y is rounded once (the correctly rounded y(1 - y), no
  // cancellation near y = 1), then the product: two operations, memory-bound. Without one,
  // (1 - y) * y: 1 - y is exact for y >= 1/2, one more rounding below.
  template <class V>
  V backward_from_y(const V& y, const V& dy) const noexcept {
#if XACT_HAS_FMA
    return dy * simd::fma(-y, y, y);
#else
    return dy * ((V(1) - y) * y);
#endif
  }

  // dy e / (1 + e)^2 with e = e^-|x|: the numerator dy*e and the denominator (h + l)^2 kept
  // exact to twice the working precision, one correction step, one final rounding.
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V z = simd::neg_abs(x);
    if (simd::all(z >= V(-math::detail::exp_normal_limit<S>())))
      return backward_core(math::detail::exp_normal(z), dy);
    // Every lane below the subnormal cut: backward_general's first case, for the whole group.
    if (simd::all(z < V(subnormal_cut<S>()))) return tail(z, dy);
    return simd::per_batch([](const auto& xb, const auto& gb) { return backward_general(xb, gb); },
                           x, dy);
  }

  // A batch with a lane below -exp_normal_limit (or NaN): out of line, per batch. Every lane
  // below ln(smallest normal): the tail alone (below), no arithmetic on subnormals.
  template <class V>
  static XACT_COLD V backward_general(const V& x, const V& dy) noexcept {
    using S = simd::scalar_t<V>;
    const V z = simd::neg_abs(x);
    if (simd::all(z < V(subnormal_cut<S>()))) return tail(z, dy);
    const V out = backward_core(math::detail::exp_general(z), dy);
    return simd::select(z < V(subnormal_cut<S>()), tail(z, dy), out);
  }

  // dy e / (1 + e)^2 for e = e^-|x| a normal number or 0 (the general path's lanes
  // that the tail replaces).
  template <class V>
  static V backward_core(const V& e, const V& dy) noexcept {
    V l;
    const V h = simd::fast_two_sum(V(1), e, l);
    V de;
    const V d = simd::two_prod(h, h, de);  // (h + l)^2 = d + de + 2hl (+ l^2, negligible)
    de = simd::fma(V(2) * h, l, de);
    // dy e / (d + de): the exact product, q0 from 1/d, one correction by the residual, one final
    // rounding; a huge, infinite or tiny dy e is scaled first (math::detail::mul_quotient_dd).
    return math::detail::mul_quotient_dd(dy, e, d, de);
  }

  // dy s'(x) where s'(x) = e (1 - 2e + ...), e = e^z (z = -|x|), is below the normal range:
  // dy e (the factor is 1 to 2^-125 / 2^-1021), with e as a significand and an exponent
  // (math::detail::exp_split) so that it is not rounded into the subnormals before dy scales
  // it (loss-scaled gradients: dy = 1000 at x = -100 gave 452 ulp when e was rounded first),
  // and nothing subnormal is computed on the way (math::detail::mul_scaled).
  // At x = +-inf s' is 0 (dy * 0: NaN for dy = +-inf, as everywhere f' = 0).
  template <class V>
  static V tail(const V& z, const V& dy) noexcept {
    using S = simd::scalar_t<V>;
    V pl, kf;
    const V ph = math::detail::exp_split(z, pl, kf);
    const V t = math::detail::mul_scaled(dy, ph, pl, kf);
    return simd::select(z == V(-std::numeric_limits<S>::infinity()), dy * V(0), t);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact

XACT_DIAGNOSTICS_END
