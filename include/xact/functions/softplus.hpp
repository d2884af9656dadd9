// softplus{beta = 1, threshold = 20}   PyTorch's torch.nn.Softplus
//   forward        y = log(1 + e^(beta x)) / beta,   and y = x where beta * x > threshold
//                  (beta * x rounded in the tensor's type, as PyTorch compares it).
//                  threshold = +inf (softplus::exact(beta)) drops the switch: the exact curve
//                  everywhere (it still returns x where the log term is far below an ulp).
//                  Evaluated as max(x, 0) + log1p(t) / beta with t = e^-|beta x| in [0, 1]
//                  (max(z, 0) / beta = max(x, 0) exactly, z = beta x): e^ is never taken of a
//                  positive number (nothing overflows), and for very negative x the result is
//                  log1p(tiny) / beta = e^z / beta, down into the subnormals with full relative
//                  accuracy, never 0 (where t itself is subnormal, e^(z - ln beta) directly, so
//                  that a small beta does not magnify t's rounding).
//                  log1p(t) for t in [0, 1] needs no rounded 1 + t: log(1 + f) (+ ln 2) with
//                  f = t (t < 1/2) or f = (t - 1) / 2 (t >= 1/2), both exact, through
//                  2 atanh(f / (2 + f)); one division, no special cases.
//                  beta = 1 (a branch per call, not per element): log1p(t) rounded once, then
//                  the sum.
//                  beta != 1: |beta x| = zh - zl kept exact (zl by one fma) and zl fed into e^'s
//                  reduced argument; log1p(t) kept as head + tail, divided by beta with one
//                  exact-residual correction (so its rounding is not magnified by the division),
//                  then the sum.
//   backward_from_x   dx = dy * sigmoid(beta x), dy beyond the threshold           reads x
//                  dy num / (1 + t) (num = 1 for x > 0, t below) with dy num exact and one
//                  correction of the quotient by its exact residual (num - q0 exact by
//                  Sterbenz, as in sigmoid's forward): dy / 2 at x = 0, exactly dy far right,
//                  e^z dy far left; dy = +-inf gives +-inf (NaN where e^z underflows to 0).
//   Values: y(-inf) = 0, y(+inf) = +inf, y(0) = log(2) / beta, NaN propagates.
//   Parameters: beta a positive normal float (in [FLT_MIN, FLT_MAX]), threshold not NaN
//   (std::invalid_argument otherwise); threshold may be +-inf.
//   Error (strict ULP; the tests' strided walks, 2^20 floats / 2^20 doubles, native AVX2+FMA
//   and baseline SSE2 builds; in brackets a denser random sample of 2^22 points in
//   |beta x| < 130 (float) / 760 (double), dy = 1):
//   beta = 1 (threshold 20 or +inf): forward float <= 1 [2], double <= 2 [2];
//   beta = 0.3: forward float and double <= 2 (native 1, baseline 2) [2];
//   backward_from_x <= 2 everywhere [1].
//   The forward's 2s come from t's own error (math::exp, up to ~0.7 ulp) passed on through
//   log1p (and, for beta != 1, up to 2x relative to the result's ulp after the division).
#pragma once

#include <cmath>
#include <limits>
#include <stdexcept>

#include "../core/math.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

class softplus {
 public:
  // The drivers may run this code on simd::wide (several batches at once; core/elementwise.hpp).
  static constexpr bool simd_wide = true;

  explicit softplus(double beta = 1, double threshold = 20) : beta_(beta), threshold_(threshold) {
    // beta is used in float and double: it must be a positive normal number in both.
    if (!(beta >= std::numeric_limits<float>::min() && beta <= std::numeric_limits<float>::max()))
      throw std::invalid_argument("xact::softplus: beta must be positive and finite (in float)");
    if (std::isnan(threshold)) throw std::invalid_argument("xact::softplus: threshold is NaN");
    pf_ = make_params<float>(beta, threshold);
    pd_ = make_params<double>(beta, threshold);
  }
  // The exact curve, with no switch to x (threshold = +inf).
  static softplus exact(double beta = 1) {
    return softplus(beta, std::numeric_limits<double>::infinity());
  }
  double beta() const noexcept { return beta_; }
  double threshold() const noexcept { return threshold_; }

  // The branch on beta = 1 is the same for every element of a call (well predicted); both
  // paths are written over V, so a scalar and every lane take the same one.
  template <class V>
  V forward(const V& x) const noexcept {
    return params<simd::scalar_t<V>>().unit ? forward_unit(x) : forward_beta(x);
  }

  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const auto& p = params<S>();
    const V lim = V(-math::detail::exp_normal_limit<S>());
    if (p.unit) {
      const V a = simd::neg_abs(x);
      if (!simd::all(a >= lim)) {
        // Every lane in the tail: backward_general's first case, for the whole group at once
        // (subnormal-heavy inputs ran 2.7x the normal time per batch).
        if (simd::all(tail_lanes(x, a))) return tail_grad(x, dy, a, V(0));
        return simd::per_batch([this](const auto& xb, const auto& gb, const auto& ab,
                                      const auto& lb) { return backward_general(xb, gb, ab, lb); },
                               x, dy, a, V(0));
      }
      const V t = math::detail::exp_normal(a);
      return simd::select(x > V(p.thr), dy, grad(x, t, dy));
    }
    const V b = V(p.b);
    V al;
    const V a = neg_abs_z(b, x, al);
    if (!simd::all(a >= lim)) {
      if (simd::all(tail_lanes(x, a))) return tail_grad(x, dy, a, al);
      return simd::per_batch([this](const auto& xb, const auto& gb, const auto& ab,
                                    const auto& lb) { return backward_general(xb, gb, ab, lb); },
                             x, dy, a, al);
    }
    const V t = exp_dw(a, al);
    return simd::select(simd::mul_fma(b, x) > V(p.thr), dy, grad(x, t, dy));
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }

 private:
  // The parameters in each type, computed once: the drivers' stores may alias *this as far as
  // the compiler knows, so whatever a batch reads from the object is reloaded for each batch
  // (a broadcast from memory, not a conversion and a min).
  template <class S>
  struct param {
    S b, ib;           // beta and 1/beta rounded in S
    S thr, cut;        // the threshold in S; where the forward returns x (below)
    S lnb_hi, lnb_lo;  // ln(beta) in two parts
    bool unit;         // beta rounds to 1 in S
  };
  template <class S>
  static param<S> make_params(double beta, double threshold) {
    param<S> p;
    p.b = static_cast<S>(beta);
    p.ib = 1 / p.b;
    p.thr = static_cast<S>(threshold);
    // Beyond z = 2^7 the forward returns x in exact mode too: there log1p(e^-z) / beta <
    // e^-128 x, x is the correctly rounded result, and beta * x may have overflowed.
    p.cut = p.thr < S(128) ? p.thr : S(128);
    const long double l = std::log(static_cast<long double>(p.b));
    p.lnb_hi = static_cast<S>(l);
    // XACT_OPQ: under -ffast-math GCC folds l - (long double)(S)l to 0 where beta is a constant
    // (lo lost: 6 ulp at beta = 1e-20, x = -7.4e22, double).
    p.lnb_lo = static_cast<S>(l - XACT_OPQ(p.lnb_hi));
    p.unit = p.b == S(1);
    return p;
  }
  template <class S>
  const param<S>& params() const noexcept {
    if constexpr (sizeof(S) == 4)
      return pf_;
    else
      return pd_;
  }

  // beta = 1: max(x, 0) + log1p(e^-|x|), the log term rounded once.
  template <class V>
  V forward_unit(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V a = simd::neg_abs(x);
    const V t = math::exp_nonpositive(a);
    // Every lane with t below the normal range (a batch of tiny results): log1p(t) = t (what
    // log1p01 gives there, bit for bit), without its arithmetic on subnormals.
    if (simd::all(a < V(math::detail::exp_subnormal_cut<S>())))
      return simd::select(x > V(params<S>().cut), x, simd::max(x, V(0)) + t);
    V lo;
    const V l = log1p01<false>(t, lo);
    // max(x, 0) is 0 for NaN x: the NaN comes through l.
    return simd::select(x > V(params<S>().cut), x, simd::max(x, V(0)) + l);
  }

  // max(x, 0) + log1p(e^-|z|) / beta, z = beta x.
  template <class V>
  V forward_beta(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const auto& p = params<S>();
    const V b = V(p.b);
    const V ib = V(p.ib);
    V al;
    const V a = neg_abs_z(b, x, al);
    // Every lane beyond exp's normal range: tiny() decides them all (below).
    if (simd::all(a < V(-math::detail::exp_normal_limit<S>())))
      return simd::select(simd::mul_fma(b, x) > V(p.cut), x, tiny(x, a, al, x));
    const V t = exp_dw(a, al);
    V ll;
    const V lh = log1p01<true>(t, ll);
    // (lh + ll) / beta: q0 from 1/beta, corrected by the exact residual lh - q0 beta.
    const V q0 = lh * ib;
    // XACT_OPQ: -ffast-math would add ll to lh first, which rounds it away.
    const V q = simd::fma(XACT_OPQ(simd::fnma(q0, b, lh)) + ll, ib, q0);
    V y = simd::max(x, V(0)) + q;
    if (!simd::all(a >= V(-math::detail::exp_normal_limit<S>()))) y = tiny(x, a, al, y);
    return simd::select(simd::mul_fma(b, x) > V(p.cut), x, y);
  }

  // Where |z| is beyond exp's normal range t is subnormal or 0 and log1p(t) = t: y = max(x, 0)
  // + e^(-|z| - ln beta), rounded once, instead of the subnormal t divided by beta (which
  // magnifies t's rounding when beta < 1). Only lanes that every path sends here change.
  template <class V>
  V tiny(const V& x, const V& a, const V& al, const V& y) const noexcept {
    using S = simd::scalar_t<V>;
    const auto& p = params<S>();
    V el;
    const V e = simd::two_sum(a, V(-p.lnb_hi), el);  // -inf for a = -inf, el NaN there
    el = simd::select(e > V(-std::numeric_limits<S>::infinity()), el + (al - V(p.lnb_lo)), V(0));
    const V r = simd::max(x, V(0)) + exp_dw(e, el);
    return simd::select(a < V(-math::detail::exp_normal_limit<S>()), r, y);
  }

  // -|beta x| = a + al exactly (al from one fma, or Dekker's product without one).
  template <class V>
  static V neg_abs_z(const V& b, const V& x, V& al) noexcept {
    const V ax = simd::abs(x);
#if XACT_HAS_FMA
    const V zp = simd::mul_fma(b, ax);  // an fma: see simd::mul_fma (subnormal x)
    al = simd::fnma(b, ax, zp);         // zp - b|x|: the rounding error of zp, negated
#else
    V e;
    const V zp = simd::two_prod(b, ax, e);
    al = -e;
#endif
    return -zp;
  }

  // e^(a + al) for a <= 0 or NaN and |al| <= ulp(a): math::exp's steps with al added to the
  // reduced argument r = a - k ln2 (as al - k ln2_lo, a correction, then one rounding), so
  // that a rounded beta x costs nothing. As math::exp, two paths with identical bits where
  // both apply: no clamp and one exact scaling when every lane has a >= -normal_limit.
  template <class V>
  static V exp_dw(const V& a, const V& al) noexcept {
    using S = simd::scalar_t<V>;
    using C = math::detail::exp_constants<S>;
    if (simd::all(a >= V(-math::detail::exp_normal_limit<S>()))) {
      V tk;
      const V p = reduce(a, a, al, tk);
      return math::detail::exp_scale_normal(p, tk);
    }
    // xn keeps NaN (a second in min/max), xk drops it; al only where a is not clamped (it may
    // be inf or NaN beyond).
    const V xn = simd::max(V(C::lo), simd::min(V(C::hi), a));
    const V xk = simd::max(simd::min(a, V(C::hi)), V(C::lo));
    const V l = simd::select(a >= V(C::lo), al, V(0));
    V tk;
    const V p = reduce(xk, xn, l, tk);
    // p 2^k rounded once, also into the subnormals (without subnormal arithmetic).
    return math::detail::scale_rounded_mid(p, math::detail::exp_k(tk));
  }

  template <class V>
  static V reduce(const V& xk, const V& xr, const V& xl, V& tk) noexcept {
    using C = math::detail::exp_constants<simd::scalar_t<V>>;
    // opaque: under -ffast-math, (t + magic) - magic must not fold back to t.
    tk = simd::opaque(simd::fma(xk, V(C::log2e), V(C::round_magic)));
    const V kf = tk - V(C::round_magic);
    // xr - k ln2_hi is exact; the low parts are summed first and added with one rounding.
    const V r = simd::opaque(simd::fnma(kf, V(C::ln2_hi), xr)) + simd::fnma(kf, V(C::ln2_lo), xl);
    return V(1) + simd::fma(simd::mul_fma(r, r), math::detail::exp_poly_q(r), r);
  }

  // log(1 + t) for t in [0, 1] or NaN: 1 + t = 2^k (1 + f) with f exact, no rounded 1 + t:
  // k = 0, f = t for t < 1/2; k = 1, f = (t - 1)/2 (t/2 exact, then Sterbenz) for t >= 1/2.
  // So f in [-1/4, 1/2), s = f / (2 + f) in [-1/7, 1/5], z = s^2 <= 1/25, and
  // log(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + z P(z)), P(z) = (2 atanh(s)/s - 2)/z =
  // 2/3 + 2z/5 + ... fitted on [0, 1/25] (minimax of z (P - p), 4 coefficients for float, 8 for
  // double: below 2^-33 / 2^-61 of the result). DW only: s is corrected by its residual rho =
  // f - s (2 + f) (exact 2 + f; f - 2s exact by Sterbenz, the rest rounded once): s + rho/(2 + f)
  // is f/(2 + f) to ~2^-48, and its effect on the sum is rho (f^2/4 + zP), to ~20%, which leaves
  // ~0.02 ulp. Then the only errors of size are the final roundings.
  // Written so that no rounded product feeds an addition: with -ffp-contract=fast (GCC's default
  // for C++) such a pair may be fused in one code path and not in another, and a scalar would no
  // longer match its lane. f^2/2 only enters through fmas.
  // DW = false: the sum, rounded (lo unset). DW = true: head + tail in lo, the tail good to a
  // small fraction of an ulp of the head: f - f^2/2 rounded once and its error, then
  // k ln2_hi + that by an exact two-sum.
  template <bool DW, class V>
  static V log1p01(const V& t, V& lo) noexcept {
    using S = simd::scalar_t<V>;
    using C = math::detail::exp_constants<S>;
    const auto big = t >= V(0.5);  // false for NaN: f = t carries it
    const V f = simd::select(big, simd::fma(t, V(0.5), V(-0.5)), t);
    // k as 1 or -0 (not +0: a select against +0 costs GCC an extra mask instruction); -0 adds
    // nothing to any sum below.
    const V k = simd::select(big, V(1), V(-0.0));
    const V s = simd::div(f, V(2) + f);
    const V z = s * s;
    V p;
    if constexpr (sizeof(S) == 4) {
      p = simd::fma(V(0x1.ed89a8p-3f), z, V(0x1.23e9bap-2f));
      p = simd::fma(p, z, V(0x1.999bdcp-2f));
      p = simd::fma(p, z, V(0x1.555554p-1f));
    } else {
      p = simd::fma(V(0x1.1b69ef14b1711p-3), z, V(0x1.0dcf1353d0d8ep-3));
      p = simd::fma(p, z, V(0x1.3b358bb55811ep-3));
      p = simd::fma(p, z, V(0x1.745c4c7aad748p-3));
      p = simd::fma(p, z, V(0x1.c71c7488da134p-3));
      p = simd::fma(p, z, V(0x1.24924921ec0bep-2));
      p = simd::fma(p, z, V(0x1.999999999c0f7p-2));
      p = simd::fma(p, z, V(0x1.555555555554fp-1));
    }
    const V zp = z * p;
    const V hf = V(0.5) * f;            // exact
    const V hr = simd::fma(hf, f, zp);  // f^2/2 + z P
    V sc = s * hr;
    if constexpr (DW) {
      const V rho = simd::residual(s, f, simd::fnma(V(2), s, f));  // f - s (2 + f)
      sc = simd::fma(rho, simd::fma(V(0.5), hr, zp), sc);          // (s + rho/(2 + f)) (...)
    }
    const V small = simd::fma(k, V(C::ln2_lo), sc);
    if constexpr (!DW) {
      return simd::fma(k, V(C::ln2_hi), f + simd::fnma(hf, f, small));
    } else {
#if XACT_HAS_FMA
      const V d = simd::fnma(hf, f, f);       // f - f^2/2 rounded once
      const V dl = simd::fnma(hf, f, f - d);  // its error (f - d exact: Sterbenz)
#else
      V hl;
      const V h = simd::two_prod(hf, f, hl);  // f^2/2 = h + hl
      // f - d and (f - d) - h exact (Sterbenz); XACT_OPQ: -ffast-math folds (f - d) - h to 0.
      const V d = XACT_OPQ(f - h);
      const V dl = (XACT_OPQ(f - d) - h) - hl;
#endif
      V el;
      const V e = simd::fast_two_sum(k * V(C::ln2_hi), d, el);  // 0 or ln2_hi > |d|
      lo = el + (dl + small);
      return e;
    }
  }

  // dy num / (1 + t), num = 1 (x > 0) or t: dy num = n + ne exactly; q0 = n / (1 + t) from the
  // rounded reciprocal; n - q0 is exact (Sterbenz: n/2 <= q0 <= n), so the residual against the
  // exact 1 + t, n + ne - q0 - q0 t, rounds once; one correction scaled by the reciprocal.
  // dy = +-inf: the error terms are NaN, the quotient itself (+-inf or NaN) is the answer.
  // A batch with a lane beyond exp's normal range (or NaN): the lanes with beta x below
  // ln(smallest normal), where sigmoid(beta x) = e^(a + al) (1 - e^..) is below the normal
  // range, take dy e^(a + al) with e^(a + al) as a significand and an exponent
  // (math::detail::mul_scaled): not rounded into the subnormals before dy scales it (a
  // loss-scaled dy keeps a normal dx there), nothing subnormal computed; the factor is 1 to
  // 2^-125 (2^-1021). At x = -inf sigmoid is 0: dy * 0. The other lanes as the fast path.
  template <class V>
  XACT_COLD V backward_general(const V& x, const V& dy, const V& a, const V& al) const noexcept {
    using S = simd::scalar_t<V>;
    const auto& p = params<S>();
    const V b = V(p.b);
    const auto tail = tail_lanes(x, a);
    const V r = tail_grad(x, dy, a, al);
    if (simd::all(tail)) return r;
    const V t = p.unit ? math::detail::exp_general(a) : exp_dw(a, al);
    const V g = simd::select((p.unit ? x : simd::mul_fma(b, x)) > V(p.thr), dy, grad(x, t, dy));
    return simd::select(tail, r, g);
  }

  // The lanes backward_general gives to tail_grad.
  template <class V>
  static auto tail_lanes(const V& x, const V& a) noexcept {
    return (x < V(0)) & (a < V(math::detail::exp_subnormal_cut<simd::scalar_t<V>>()));
  }
  template <class V>
  V tail_grad(const V& x, const V& dy, const V& a, const V& al) const noexcept {
    using S = simd::scalar_t<V>;
    const auto& p = params<S>();
    V pl, kf;
    const V ph = math::detail::exp_split(a, pl, kf);
    // al only where a is not clamped (beyond, Dekker's product without an fma may have
    // overflowed: al inf or NaN, and e^a is 0 to any dy there anyway).
    const V alc = simd::select(a >= V(math::detail::exp_split_constants<S>::lo), al, V(0));
    // XACT_OPQ: under -ffast-math without an fma, the low part's product and sum were merged
    // into mul_scaled's (3 ulp, SSE2 float, beta 0.3, x = -503).
    const V r =
        math::detail::mul_scaled(dy, ph, p.unit ? pl : XACT_OPQ(simd::fma(ph, alc, pl)), kf);
    return simd::select(x == V(-std::numeric_limits<S>::infinity()), dy * V(0), r);
  }

  template <class V>
  static V grad(const V& x, const V& t, const V& dy) noexcept {
    const V num = simd::select(x > V(0), V(1), t);
    const V rd = simd::div(V(1), V(1) + t);
#if XACT_HAS_FMA
    const V n = dy * num;
    const V en = simd::fnma(dy, num, n);  // n - dy num: the rounding error, negated (one fnma)
#else
    V e;
    const V n = simd::two_prod(dy, num, e);
    const V en = -e;
#endif
    const V q0 = n * rd;
    const V g = simd::fma(simd::residual(q0, t, n - q0) - en, rd, q0);
#if XACT_OPAQUE && !XACT_HAS_FMA
    // -ffast-math folds g == g to true (scalar code), but without an fma g is NaN wherever
    // Dekker's split of dy overflows (|dy| > max / (2^12 + 1), float; / (2^27 + 1), double):
    // NaN at x = dy = FLT_MAX, the true dx dy. There q0 is taken by the size of dy instead.
    using S = simd::scalar_t<V>;
    const V big = V(sizeof(S) == 4 ? S(0x1p114) : S(0x1p995));
    return simd::select(simd::abs(dy) < big, g, q0);
#else
    return simd::select(g == g, g, q0);
#endif
  }

  double beta_;
  double threshold_;
  param<float> pf_;
  param<double> pd_;
};

}  // namespace xact

XACT_DIAGNOSTICS_END
