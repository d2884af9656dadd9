// tanh   y = (e^x - e^-x) / (e^x + e^-x)
//   forward        |x| < 0.5625: the odd polynomial x + x^3 P(x^2) (minimax, relative error far
//                  below an ulp; tanh x ~ x down to the subnormals, no cancellation).
//                  |x| >= 0.5625: tanh|x| = 1 - 2e/(1 + e) with e = e^-2|x| in (0, 0.33]: e^
//                  is only taken of a non-positive number (nothing overflows), and the result
//                  is >= 0.51, so 1 - t does not cancel. The sign of x put back. A batch takes
//                  one form, or both and a select; a lane's result is the same either way.
//                  (Before: one form for every x, (1 - e)/(1 + e) with both kept as head +
//                  tail pairs and a corrected quotient: 1 ulp, but twice the instructions.)
//   backward_from_y   dx = dy (1 - y)(1 + y)     1 - y*y by one fma, then * dy            reads y
//   backward_from_x   dx = dy 4e / (1 + e)^2     compensated like sigmoid's               reads x
//                  1 - y^2 from y cancels for large |x| (y rounds to +-1 at |x| ~ 9 in float);
//                  from x the derivative stays accurate to e^-2|x|.
//   Values: tanh(+-0) = +-0, tanh(+-inf) = +-1, NaN propagates; |tanh x| <= 1 for every x.
//   Error (strict ULP): forward float <= 2 over all 2^32 floats (1.49 ulp from the exact
//   value, just above the limit), double <= 2;
//   backward_from_x float <= 2 over all 2^32 floats, double <= 2; backward_from_y <= 2 (1 with an
//   fma). The same in the baseline (SSE2, no fma) build on the strided walk.
#pragma once

#include <limits>

#include "../core/math.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

struct tanh {
  // The drivers may run this code on simd::wide (several batches at once; core/elementwise.hpp).
  static constexpr bool simd_wide = true;

  // Below this |x| the odd polynomial; from it on tanh|x| >= 0.51, so 1 - t (t <= 0.49) does
  // not cancel: atanh(1/2) = 0.549.
  template <class S>
  static constexpr S poly_limit() noexcept {
    return S(0.5625);
  }

  // tanh x = x + x^3 P(x^2) for |x| < 0.5625: P the minimax polynomial (Remez on 50 digits, for
  // the relative error of tanh; coefficients rounded): float degree 4 in x^2, 2.4e-9 relative;
  // double degree 10, 7.7e-18. The x^3 P term is at most 0.1 |x|, so its roundings count a
  // tenth: the last rounding dominates. Tiny x: x^3 underflows harmlessly and the result is x.
  template <class V>
  static V odd_poly(const V& x) noexcept {
    using S = simd::scalar_t<V>;
    const V s = x * x;
    V p;
    if constexpr (sizeof(S) == 4) {
      p = V(-0x1.95001cp-8f);
      p = simd::fma(p, s, V(0x1.582fb0p-6f));
      p = simd::fma(p, s, V(-0x1.b90946p-5f));
      p = simd::fma(p, s, V(0x1.110c72p-3f));
      p = simd::fma(p, s, V(-0x1.555548p-2f));
    } else {
      p = V(-0x1.3d27e7ee789cap-16);
      p = simd::fma(p, s, V(0x1.5972605d0a815p-14));
      p = simd::fma(p, s, V(-0x1.e80a91de7b2ebp-13));
      p = simd::fma(p, s, V(0x1.3460ac53e3d46p-11));
      p = simd::fma(p, s, V(-0x1.7d8b95da98a03p-10));
      p = simd::fma(p, s, V(0x1.d6d24793bd11ep-9));
      p = simd::fma(p, s, V(-0x1.226e2d025ffb7p-7));
      p = simd::fma(p, s, V(0x1.664f4849566acp-6));
      p = simd::fma(p, s, V(-0x1.ba1ba1b935e3cp-5));
      p = simd::fma(p, s, V(0x1.11111111102b6p-3));
      p = simd::fma(p, s, V(-0x1.555555555554bp-2));
    }
    return simd::fma(s * x, p, x);
  }

  // From here tanh |x| rounds to 1: float 9.5 (the exact threshold is ~9.01), double 20 (~19.06).
  template <class S>
  static constexpr S one_limit() noexcept {
    return sizeof(S) == 4 ? S(9.5) : S(20);
  }

  // tanh a = 1 - t, t = 2e/(1 + e), e = e^-2a, for a >= 0.5625 (and +inf, NaN): e^ of a
  // non-positive number only (nothing overflows; e = 0 and tanh = 1 for large a). t <= 0.49 is
  // within ~2 of its ulps (e's, 1 + e's and the quotient's roundings), which are at most half
  // an ulp of 1 - t >= 0.51: ~1 ulp before the last rounding. 0 <= t <= 1, so 0 <= 1 - t <= 1.
  template <class V>
  static V saturating(const V& a) noexcept {
    using S = simd::scalar_t<V>;
    const V w = V(-2) * a;
    // Where exp leaves its fast path (a lane with e^w below the normal range, or NaN; the same
    // test as exp_nonpositive's, so it costs nothing on the fast path): if every |x| is where
    // tanh rounds to 1, that is the result. The exp form gives exactly 1 there too (checked:
    // every float, 4 10^8 sampled doubles, AVX-512 and SSE2), but through exp's general path
    // (|x| > 44: 1.7-1.9x the normal time). NaN fails the test.
    if (!simd::all(w >= V(-math::detail::exp_normal_limit<S>())) &&
        simd::all(a >= V(one_limit<S>())))
      return V(1);
    const V e = math::exp_nonpositive(w);
    return V(1) - simd::div(e + e, V(1) + e);
  }

  // Per batch: the polynomial alone, the exp form alone, or both and a select (a batch
  // with |x| on both sides of the limit). A lane's result is the same in each (NaN: the exp form).
  // Both work on |x| (results >= +0) and the sign of x is put back at the end, so that
  // tanh(-0) = -0 (x + x^3 P at x = -0 would round -0 + +0 to +0).
  template <class V>
  V forward(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V a = simd::abs(x);
    const auto small = a < V(poly_limit<S>());
    V y;
    if (simd::all(small)) {
      y = odd_poly(a);
    } else {
      y = saturating(a);
      if (simd::any(small)) y = simd::select(small, odd_poly(a), y);
    }
    return simd::xorsign(y, x);
  }

  // dy (1 - y^2): with an fma, 1 - y*y rounded once (correctly rounded, no cancellation near
  // |y| = 1), then the product: two operations, memory-bound. Without one, (1 - y)(1 + y):
  // each factor exact where it matters (|y| >= 1/2), one more rounding below.
  template <class V>
  V backward_from_y(const V& y, const V& dy) const noexcept {
#if XACT_HAS_FMA
    return dy * simd::fma(-y, y, V(1));
#else
    return dy * ((V(1) - y) * (V(1) + y));
#endif
  }

  // dy 4e / (1 + e)^2 with e = e^-2|x|, 1 + e = h + l exactly: the numerator and the
  // denominator kept to twice the working precision, one correction step, one final rounding
  // (as sigmoid's backward). The 4: where 4e is a normal number it goes into the denominator,
  // dy e / (h/2 + l/2)^2, so that dy * 4 never overflows; where it is tiny, 4e comes from
  // exp_scaled, rounded once (e itself would already have lost bits in the subnormals) and
  // the denominator is 1.
  // Below this w = -2|x|, 4e^w is below the normal range (|x| > 44.4 float, 354.5 double).
  template <class S>
  static constexpr S tail_lim() noexcept {
    return sizeof(S) == 4 ? S(-88.5) : S(-709.5);
  }

  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V w = simd::mul_fma(V(-2), simd::abs(x));  // an fma: see simd::mul_fma
    // A lane where 4e is below the normal range, or NaN.
    if (!simd::all(w >= V(tail_lim<S>()))) {
      // Every lane in the tail: backward_general's first case for the whole group at once (per
      // batch, subnormal derivatives ran 2x the normal time).
      if (simd::all(w < V(tail_lim<S>()))) return tail_grad(w, dy);
      return simd::per_batch(
          [this](const auto& xb, const auto& gb) { return backward_general(xb, gb); }, x, dy);
    }
    return backward_core(x, dy);
  }

 private:
  // Where 4e = 4 e^-2|x| is below the normal range: dy 4e (the factor 1 / (1 + e)^2 is 1 to
  // 2^-125 / 2^-1021) with 4e as a significand and an exponent (math::detail::mul_scaled): not
  // rounded into the subnormals before dy scales it (a loss-scaled dy keeps a normal dx there;
  // at |x| = 50, dy = 2^16 it was rounded to 0), nothing subnormal computed. At x = +-inf the
  // derivative is 0: dy * 0. The other lanes as backward_core.
  template <class V>
  XACT_COLD V backward_general(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V w = simd::mul_fma(V(-2), simd::abs(x));  // an fma: see simd::mul_fma
    const auto tail = w < V(tail_lim<S>());
    const V r = tail_grad(w, dy);
    if (simd::all(tail)) return r;
    return simd::select(tail, r, backward_core(x, dy));
  }

  // dy 4 e^w for w = -2|x| (NaN kept), as above.
  template <class V>
  static V tail_grad(const V& w, const V& dy) noexcept {
    using S = simd::scalar_t<V>;
    V pl, kf;
    const V ph = math::detail::exp_split(w, pl, kf);
    const V r = math::detail::mul_scaled(dy, ph, pl, kf + V(2));
    return simd::select(w == V(-std::numeric_limits<S>::infinity()), dy * V(0), r);
  }

  template <class V>
  V backward_core(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V e4 = math::exp_scaled<2>(simd::mul_fma(V(-2), simd::abs(x)));
    const V e = V(0.25) * e4;
    const auto tiny = e4 < V(sizeof(S) == 4 ? S(0x1p-100f) : S(0x1p-1000));
    const V half = simd::select(tiny, V(1), V(0.5));
    V l;
    const V h = simd::fast_two_sum(V(1), e, l);
    const V hh = half * h;
    const V hl = half * l;
    V de;
    const V d = simd::two_prod(hh, hh, de);  // (hh + hl)^2 = d + de + 2 hh hl (+ hl^2)
    de = simd::fma(V(2) * hh, hl, de);
    // dy e' / (d + de), e' = 4e or e: the exact product, q0 from 1/d, one correction by the
    // residual, one final rounding; a huge, infinite or tiny dy e' is scaled first (as sigmoid's).
    return math::detail::mul_quotient_dd(dy, simd::select(tiny, e4, e), d, de);
  }

 public:
  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

}  // namespace xact

XACT_DIAGNOSTICS_END
