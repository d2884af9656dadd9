// Dice   (Zhou et al., Deep Interest Network, KDD 2018): a PReLU whose kink is smoothed and
// moved to each feature's batch mean.
//   forward   z = (x - mean) / sqrt(var + eps)       (affine: z = gamma * that + beta)
//             p = sigmoid(z)                          (xact::sigmoid's forward, <= 1 ulp)
//             y = p x + (1 - p) alpha x  =  x * (alpha + (1 - alpha) p)
//   backward  with xhat = (x - mean) rstd, rstd = 1/sqrt(var + eps), q = 1 - p,
//             gz = dy x (1 - alpha) p q           (the gradient reaching z)
//             dalpha = sum dy x q,  dgamma = sum gz xhat,  dbeta = sum gz   (per feature)
//             inference: dx = dy (alpha + (1 - alpha) p) + gamma rstd gz      (statistics fixed)
//             training:  dx = dy (alpha + (1 - alpha) p)
//                           + gamma rstd (gz - mean(gz) - xhat mean(gz xhat))
//             (the batch mean and variance depend on every x of the feature, as in batch norm).
//             Backward reads x and dy (never y), and in training the batch statistics saved by
//             the training forward on the same x.
//   Statistics per feature over every other axis (N, and T or the spatial axes), always as
//   var = (sum d^2 - (sum d)^2 / n) / n with d = x - K close to the mean, never
//   E[x^2] - E[x]^2, which cancels. float (period C * inner a multiple of the batch width):
//   one pass (channel_moments), K = the feature's first value, so (mean - K)^2 <= (n - 1) var,
//   d and the sums in double: the statistics are exact to double rounding before their
//   rounding to float; a feature with (mean - K)^2 > 2^16 var takes a second pass with K =
//   the mean. double (and other float shapes): two passes, K = the compensated mean, then
//   compensated sums of d and d^2. Biased variance in the normalization; the running variance
//   takes the unbiased one (x n/(n-1)), as PyTorch's BatchNorm:
//   running = (1 - momentum) running + momentum batch.
//   Defined cases: a batch of one per feature (n = 1): var = 0, x - mean = 0 exactly, so
//   p = sigmoid(0) = 1/2 (affine: sigmoid(beta)), y = x (1 + alpha) / 2 and dx = dy (1 + alpha)/2
//   exactly (dgamma = 0, dalpha and dbeta as the formulas say); the running mean is
//   updated and the running variance is left as is (the unbiased variance of one value is
//   undefined). A constant feature column: the corrected mean is the constant exactly, so the
//   same p = 1/2 and y = x (1 + alpha) / 2 exactly; dx is finite and equal to dy (1 + alpha)/2
//   up to the rounding of mean(gz), amplified by rstd = 1/sqrt(eps) as in batch norm (eps > 0 is
//   required).
//   NaN in x makes its feature's statistics, hence the whole feature's y, NaN (as batch norm);
//   NaN alpha/gamma/beta poison their feature only.
//   Error (measured by test_dice.cpp, native AVX2 and baseline SSE2):
//     fixed statistics (dice_fixed, strided walk of 2^20 floats and 2^20 doubles): forward
//     <= 2 ulp, backward_from_x <= 3 ulp, float and double;
//     the layer (training and inference, affine or not, 10 shapes, data at offsets 0 and 1000):
//     |y - y_ref| <= 1.2 eps |x| (|alpha| + |1 - alpha|) (test bound 2);
//     batch statistics of 2^20 values at mean 1e4: mean within 0.07 eps, variance 0.94 eps
//     (float, one pass), 0.28 and 1.61 eps (double, two passes);
//     dx, dalpha, dgamma, dbeta agree with central differences of the long double reference
//     (training: the statistics move with x) to 3e-5 (float) and 1e-9 (double), relative.
//
// API
//   xact::dice<T> d(features, xact::dice_options<T>{eps, momentum, affine, alpha0});
//   d.forward(shape, x, y, xact::dice_mode::training)      batch statistics, running update
//   d.backward(shape, x, dy, dx, xact::dice_mode::training) needs the training forward of this x
//   d.forward(shape, x, y, xact::dice_mode::inference)      running statistics
//   d.backward(shape, x, dy, dx, xact::dice_mode::inference)
//   shape: channel_shape{N, features, inner, layout}: [N, C] is {N, C, 1, any layout},
//   [N, T, C] is {N, C, T, layout::channels_last}, [N, C, T] is {N, C, T, channels_first}.
//   Public members (size features), owned by the object and allocated at construction only:
//     alpha (learnable, init alpha0 = 0), gamma = 1, beta = 0 (used only when affine),
//     running_mean = 0, running_var = 1, batch_mean and batch_rstd (saved by the training
//     forward), grad_alpha, grad_gamma, grad_beta (overwritten by backward, not accumulated).
//   forward/backward allocate nothing (their scratch is an internal vector sized at
//   construction); y may be x and dx may be dy (in place). Not thread-safe on one object.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/channelwise.hpp"
#include "../core/simd.hpp"
#include "sigmoid.hpp"

XACT_DIAGNOSTICS_BEGIN

namespace xact {

enum class dice_mode { training, inference };

template <class T>
struct dice_options {
  T eps = T(1e-8);      // added to the variance (the paper's value); must be > 0
  T momentum = T(0.1);  // running = (1 - momentum) running + momentum batch; in [0, 1]
  bool affine = false;  // z = gamma * xhat + beta
  T alpha = T(0);       // initial alpha of every feature
};

// The per-element math, over V. p, forward and the backward pieces from one feature's values.
struct dice_math {
  // The gate's input z = gamma (x - mean) rstd + beta from d = x - hi, the mean arriving as
  // hi + lo (the rounded mean and its correction), with the per-feature constants folded (two
  // parameter streams instead of four): z = d g + o, g = gamma rstd (rstd without affine),
  // o = beta - g lo (-rstd lo). d is exact for x near the mean (Sterbenz), so z is accurate
  // relative to x - mean, not to x, and rounds once.
  template <class V>
  static V gate_z(const V& d, const V& g, const V& o) noexcept {
    return simd::fma(d, g, o);
  }
  // p = sigmoid(z) and q = 1 - p = sigmoid(-z), each to sigmoid's accuracy from one exp: p is
  // bit-identical to sigmoid{}.forward(z); q does not cancel where p rounds to 1 (backward
  // needs p q = e^-|z| / (1 + e^-|z|)^2 there, not 0).
  template <class V>
  static V gate_pq(const V& z, V& q) noexcept {
    const V e = math::exp_nonpositive(simd::neg_abs(z));
    V rinv;
    const V p = sigmoid::quotient(z, e, rinv);
    // q = num / (1 + e) with the other numerator: q0 from rinv (within 2 ulps), then the same
    // exact-residual correction as sigmoid's quotient. z = +-0: e = 1 = num either way.
    const V num = simd::select_sign(z, V(1), e);
    const V q0 = num * rinv;
    q = simd::fma(simd::residual(q0, e, num - q0), rinv, q0);
    return p;
  }
  // x (alpha + (1 - alpha) p): the factor is a convex mix of alpha and 1 for p in [0, 1].
  // a1 = 1 - alpha (rounded once per feature: the bits of 1 - alpha taken per element).
  template <class V>
  static V factor(const V& p, const V& alpha, const V& a1) noexcept {
    return simd::fma(a1, p, alpha);
  }
  template <class V>
  static V forward(const V& x, const V& p, const V& alpha, const V& a1) noexcept {
    // The product as an fma: no hardware slow path where x is subnormal (simd::mul_fma).
    return simd::mul_fma(x, factor(p, alpha, a1));
  }
  // gz = dy x (1 - alpha) p q; also returns dy x q (dalpha's term) in ga. x is multiplied by
  // q or p q before dy, so nothing overflows where the result is finite (x q -> 0 as
  // x -> +inf, x p q -> 0 both ways).
  template <class V>
  static V grad_z(const V& x, const V& p, const V& q, const V& a1, const V& dy, V& ga) noexcept {
    // At x = +-inf the limits are taken: x q -> 0 where q = 0, x p q -> 0 where p = 0 (not the
    // NaN of inf * 0); NaN x keeps NaN (p, q NaN).
    using S = simd::scalar_t<V>;
    // opaque (a no-op unless -ffast-math): each product in this order, in every inlined copy
    // (reassociated per copy, the scalar call and a lane differed by up to 4 ulp where the two
    // terms of backward's sum cancel).
    // The products of x as fmas (simd::mul_fma, the same bits): subnormal x made the backward
    // 1.8-2x slower with plain multiplies.
    using simd::mul_fma;
    const V xq = simd::select(q == V(0), V(0), XACT_OPQ(mul_fma(x, q)));
    const V xpq = simd::select(p == V(0), V(0), XACT_OPQ(mul_fma(xq, p)));
    const V big = V(std::numeric_limits<S>::max());
    if (simd::all(simd::abs(dy) <= big)) {
      ga = mul_fma(dy, xq);
      return XACT_OPQ(mul_fma(XACT_OPQ(mul_fma(dy, xpq)), a1));
    }
    // dy = +-inf (rare): where x q or x p q is such a limit 0, it stays 0 (dx = dy alpha or dy,
    // not the NaN of inf * 0; found by fuzzing): dy clamped to the finite range there (NaN
    // kept). Likewise x p q at x = 0 (the x p' term of f'(0) = p + (1 - p) alpha, which is not
    // 0: dx = dy f'(0) = +-inf, not NaN; found by fuzzing dice_fixed at x = 0, dy = -inf).
    // Finite dy take the branch above, whose bits these are too.
    const V dyc = simd::max(V(-big), simd::min(big, dy));
    const auto zq = q == V(0);
    ga = simd::select(zq, dyc, dy) * xq;
    return (simd::select(xpq == V(0), dyc, dy) * xpq) * a1;
  }
  // dx = scale gz + dy (alpha + (1 - alpha) p), gz = grad_z's (returned, with ga). For dy = +-inf
  // the two terms may be infinities of opposite signs (inf - inf = NaN where f'(x) is finite and
  // not 0; found by fuzzing dice_fixed at x = -1.3e-36): there dx = dy f'(x), f'(x) from dy = 1
  // (0 gives NaN, as inf * 0). Finite dy: the plain sum.
  template <class V>
  static V dx(const V& x, const V& p, const V& q, const V& a, const V& a1, const V& scale,
              const V& dy, V& ga, V& gz) noexcept {
    using S = simd::scalar_t<V>;
    gz = grad_z(x, p, q, a1, dy, ga);
    // opaque: without it -ffast-math may factor dy out of both terms (one rounding less or more).
    const V r = simd::fma(scale, gz, XACT_OPQ(dy * factor(p, a, a1)));
    const auto inf = simd::abs(dy) == V(std::numeric_limits<S>::infinity());
    if (!simd::any(inf)) return r;
    V ga1;
    const V f1 = simd::fma(scale, grad_z(x, p, q, a1, V(1), ga1), factor(p, a, a1));
    return simd::select(inf, f1 * dy, r);
  }
};

// Dice with fixed statistics as an elementwise functor (one feature): inference mode, or the
// accuracy tests. mean, rstd = 1/sqrt(var + eps), alpha, gamma, beta.
struct dice_fixed {
  double mean = 0, rstd = 1, alpha = 0, gamma = 1, beta = 0;
  bool affine = false;

  // The layer's per-feature constants, in S (as the layer computes them in T).
  template <class S>
  S scale() const noexcept {
    return affine ? S(gamma) * S(rstd) : S(rstd);
  }
  template <class S>
  S offset() const noexcept {
    return affine ? S(beta) : S(0);
  }
  template <class V>
  V forward(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V z = dice_math::gate_z(x - V(S(mean)), V(scale<S>()), V(offset<S>()));
    return dice_math::forward(x, sigmoid{}.forward(z), V(S(alpha)), V(S(1) - S(alpha)));
  }
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V a = V(S(alpha)), a1 = V(S(1) - S(alpha));
    V q;
    const V p =
        dice_math::gate_pq(dice_math::gate_z(x - V(S(mean)), V(scale<S>()), V(offset<S>())), q);
    V ga, gz;
    return dice_math::dx(x, p, q, a, a1, V(scale<S>()), dy, ga, gz);
  }
  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

template <class T>
class dice {
 public:
  explicit dice(std::size_t features, dice_options<T> opt = {})
      : alpha(check(features, opt), opt.alpha),
        gamma(features, T(1)),
        beta(features, T(0)),
        running_mean(features, T(0)),
        running_var(features, T(1)),
        batch_mean(features, T(0)),
        batch_rstd(features, T(0)),
        grad_alpha(features, T(0)),
        grad_gamma(features, T(0)),
        grad_beta(features, T(0)),
        eps_(opt.eps),
        momentum_(opt.momentum),
        affine_(opt.affine),
        work_(kWork * features, T(0)),
        moments_(3 * features, 0.0) {}

  // As built (the public vectors could be resized; forward and backward refuse that).
  std::size_t features() const noexcept { return work_.size() / kWork; }
  T eps() const noexcept { return eps_; }
  T momentum() const noexcept { return momentum_; }
  bool affine() const noexcept { return affine_; }

  std::vector<T> alpha, gamma, beta;         // parameters
  std::vector<T> running_mean, running_var;  // running statistics
  std::vector<T> batch_mean, batch_rstd;     // the last training forward's statistics
  std::vector<T> grad_alpha, grad_gamma, grad_beta;

  template <class A = xsimd::default_arch>
  void forward(const channel_shape& s, const T* x, T* y, dice_mode mode) {
    check_shape(s);
    if (s.size() != 0 && !y) detail::throw_null("y");
    // Before the training statistics update the running ones: a refused call changes nothing.
    if (s.size() != 0 && !x) detail::throw_null("x");
    detail::check_overlap(x, static_cast<const T*>(y), s.size(), "x");
    if (mode == dice_mode::training) {
      batch_stats<A>(s, x);
      saved_size_ = s.size();
      walk_forward<A>(s, x, y, w(kHi), w(kLo), batch_rstd.data());
    } else {
      running_rstd();
      walk_forward<A>(s, x, y, running_mean.data(), w(kZero), w(kRstd));
    }
  }

  template <class A = xsimd::default_arch>
  void backward(const channel_shape& s, const T* x, const T* dy, T* dx, dice_mode mode) {
    check_shape(s);
    if (s.size() != 0 && !dx) detail::throw_null("dx");
    if (mode == dice_mode::training) {
      if (saved_size_ != s.size())
        throw std::logic_error(
            "xact::dice::backward (training): call forward in training mode on the same x "
            "first (its batch statistics are needed)");
      walk_backward<A, true>(s, x, dy, dx, w(kHi), w(kLo), batch_rstd.data());
    } else {
      running_rstd();
      walk_backward<A, false>(s, x, dy, dx, running_mean.data(), w(kZero), w(kRstd));
    }
  }

 private:
  // Scratch rows of work_, each `features` long: the sums, the saved mean as hi + lo, the
  // running 1/std, backward's per-feature constants, and a row of zeros.
  enum : std::size_t { kS0, kS1, kS2, kHi, kLo, kRstd, kK, kM1, kM2, kZero, kG, kO, kA1, kWork };

  T eps_, momentum_;
  bool affine_;
  std::vector<T> work_;
  std::vector<double> moments_;  // the one-pass float statistics: sum d, sum d^2, rstd
  std::size_t saved_size_ = std::size_t(-1);

  T* w(std::size_t row) noexcept { return work_.data() + row * features(); }

  static std::size_t check(std::size_t features, const dice_options<T>& o) {
    if (features == 0) throw std::invalid_argument("xact::dice: features must be > 0");
    if (!(o.eps > T(0)) || !std::isfinite(o.eps))
      throw std::invalid_argument("xact::dice: eps must be finite and > 0, got " +
                                  std::to_string(o.eps));
    if (!(o.momentum >= T(0) && o.momentum <= T(1)))
      throw std::invalid_argument("xact::dice: momentum must be in [0, 1], got " +
                                  std::to_string(o.momentum));
    return features;
  }
  void check_shape(const channel_shape& s) const {
    if (s.channels != features())
      throw std::invalid_argument("xact::dice: shape has " + std::to_string(s.channels) +
                                  " channels, the layer " + std::to_string(features()) +
                                  " features");
    // The public vectors may have been resized by the caller: the walk reads and writes as
    // many entries of each as the layer was built with.
    const std::size_t f = features();
    const std::vector<T>* v[] = {&alpha,      &gamma,      &beta,       &running_mean, &running_var,
                                 &batch_mean, &batch_rstd, &grad_alpha, &grad_gamma,   &grad_beta};
    for (const std::vector<T>* p : v)
      if (p->size() != f)
        throw std::invalid_argument("xact::dice: size mismatch: a member vector has " +
                                    std::to_string(p->size()) + " entries, the layer " +
                                    std::to_string(f) + " features");
  }
  T rstd_of(T var) const noexcept { return T(1) / std::sqrt(var + eps_); }
  void running_rstd() noexcept {
    for (std::size_t c = 0; c < features(); ++c) w(kRstd)[c] = rstd_of(running_var[c]);
  }

  // Float: one pass (channel_moments) with each feature shifted by one of its own values, so
  // (mean - shift)^2 <= (n - 1) var, sums in double: the mean and the biased variance come out
  // to double accuracy before their rounding to float (more accurate than the two float
  // passes below). A feature whose shift lies beyond 2^8 standard deviations of its mean
  // (an outlier chosen as the shift) makes the pass run again shifted by the mean. False
  // where the walk does not apply (the caller takes the two-pass path).
  template <class A>
  bool batch_stats_one_pass(const channel_shape& s, const T* x) {
    if constexpr (!std::is_same<T, float>::value) {
      return false;
    } else {
      const std::size_t C = features();
      const std::size_t n = s.per_channel();
      if (n == 0) return false;
      double* s1 = moments_.data();
      double* s2 = s1 + C;
      T* shift = w(kS0);
      const std::size_t step = s.order == layout::channels_last ? 1 : s.inner;
      for (std::size_t c = 0; c < C; ++c) shift[c] = x[c * step];  // element (0, c, 0)
      double* rs = s2 + C;
      if (!channel_moments<A>(s, shift, x, s1, s2)) return false;
      if (channel_moments_finish<A>(C, n, double(eps_), shift, s1, s2, rs, true)) {
        for (std::size_t c = 0; c < C; ++c) shift[c] = T(s1[c]);  // the mean
        channel_moments<A>(s, shift, x, s1, s2);
        channel_moments_finish<A>(C, n, double(eps_), shift, s1, s2, rs, false);
      }
      const T m = momentum_;
      const double unbias = n > 1 ? double(n) / double(n - 1) : 0.0;  // one division per call
      for (std::size_t c = 0; c < C; ++c) {
        const double mean = s1[c], var = s2[c];
        const T hi = T(mean);
        w(kHi)[c] = hi;
        w(kLo)[c] = T(mean - double(hi));
        batch_mean[c] = hi;
        batch_rstd[c] = T(rs[c]);
        running_mean[c] = (T(1) - m) * running_mean[c] + m * hi;
        if (n > 1) running_var[c] = (T(1) - m) * running_var[c] + m * T(var * unbias);
      }
      return true;
    }
  }

  template <class A>
  void batch_stats(const channel_shape& s, const T* x) {
    using B = xsimd::batch<T, A>;
    if (batch_stats_one_pass<A>(s, x)) return;
    const std::size_t C = features();
    const std::size_t n = s.per_channel();
    // Pass 1: hi = sum x / n (a division, not a product with 1/n: a constant column then
    // gives its constant exactly).
    channelwise<A>(s, std::array<const T*, 0>{}, std::array<const T*, 1>{x}, (T*)nullptr,
                   std::array<T*, 1>{w(kS0)},
                   [](const std::array<B, 0>&, const std::array<B, 1>& v, std::array<B, 1>& t) {
                     t[0] = v[0];
                     return v[0];
                   });
    for (std::size_t c = 0; c < C; ++c) w(kHi)[c] = n ? w(kS0)[c] / T(n) : T(0);
    // Pass 2: d = x - hi, sums of d and d^2: the corrected two-pass variance, lo = mean(d).
    channelwise<A>(s, std::array<const T*, 1>{w(kHi)}, std::array<const T*, 1>{x}, (T*)nullptr,
                   std::array<T*, 2>{w(kS1), w(kS2)},
                   [](const std::array<B, 1>& p, const std::array<B, 1>& v, std::array<B, 2>& t) {
                     const B d = v[0] - p[0];
                     t[0] = d;
                     t[1] = d * d;
                     return d;
                   });
    const T m = n ? momentum_ : T(0);  // an empty batch leaves the running statistics alone
    for (std::size_t c = 0; c < C; ++c) {
      const T lo = n ? w(kS1)[c] / T(n) : T(0);
      w(kLo)[c] = lo;
      T var = (n ? w(kS2)[c] / T(n) : T(0)) - lo * lo;
      if (var < T(0)) var = T(0);  // rounding only; NaN stays NaN
      const T mean = w(kHi)[c] + lo;
      batch_mean[c] = mean;
      batch_rstd[c] = rstd_of(var);
      running_mean[c] = (T(1) - m) * running_mean[c] + m * mean;
      if (n > 1) running_var[c] = (T(1) - m) * running_var[c] + m * (var * T(n) / T(n - 1));
    }
  }

  template <class A>
  void walk_forward(const channel_shape& s, const T* x, T* y, const T* hi, const T* lo,
                    const T* rstd) {
    if (affine_)
      walk_forward<A, true>(s, x, y, hi, lo, rstd);
    else
      walk_forward<A, false>(s, x, y, hi, lo, rstd);
  }
  // The folded per-feature constants: z = (x - hi) g + o (dice_math::gate_z), a1 = 1 - alpha.
  template <bool Affine>
  void fold_constants(const T* lo, const T* rstd) noexcept {
    for (std::size_t c = 0; c < features(); ++c) {
      const T g = Affine ? gamma[c] * rstd[c] : rstd[c];
      w(kG)[c] = g;
      w(kO)[c] = Affine ? beta[c] - g * lo[c] : -(rstd[c] * lo[c]);
      w(kA1)[c] = T(1) - alpha[c];
    }
  }
  template <class A, bool Affine>
  void walk_forward(const channel_shape& s, const T* x, T* y, const T* hi, const T* lo,
                    const T* rstd) {
    fold_constants<Affine>(lo, rstd);
    channelwise<A>(s, std::array<const T*, 5>{hi, w(kG), w(kO), alpha.data(), w(kA1)},
                   std::array<const T*, 1>{x}, y, std::array<T*, 0>{},
                   // Generic: the driver may hand it four rows at once (simd::wide).
                   [](const auto& p, const auto& v, auto&) {
                     const auto z = dice_math::gate_z(v[0] - p[0], p[1], p[2]);
                     return dice_math::forward(v[0], sigmoid{}.forward(z), p[3], p[4]);
                   });
  }

  template <class A, bool Training>
  void walk_backward(const channel_shape& s, const T* x, const T* dy, T* dx, const T* hi,
                     const T* lo, const T* rstd) {
    if (affine_)
      walk_backward<A, Training, true>(s, x, dy, dx, hi, lo, rstd);
    else
      walk_backward<A, Training, false>(s, x, dy, dx, hi, lo, rstd);
  }
  template <class A, bool Training, bool Affine>
  void walk_backward(const channel_shape& s, const T* x, const T* dy, T* dx, const T* hi,
                     const T* lo, const T* rstd) {
    using B = xsimd::batch<T, A>;
    const std::size_t C = features();
    fold_constants<Affine>(lo, rstd);
    // With one value per feature in training, x - mean is identically 0 and dx is the direct
    // term alone: k = 0 makes it exact (u below would otherwise cancel k gz against k mean(gz)).
    const bool single = Training && s.per_channel() == 1;
    for (std::size_t c = 0; c < C; ++c) w(kK)[c] = single ? T(0) : w(kG)[c];
    // Pass 1: the sums of dy x q, gz and gz d (d = x - hi: gz xhat = rstd (gz d) - rstd lo gz
    // per feature), and u = dy (alpha + (1 - alpha) p) + k gz into dx: dx itself with fixed
    // statistics; in training, pass 2 then only subtracts k (mean(gz) + xhat mean(gz xhat)),
    // without the sigmoid (unless dx is x, which pass 2 must still read).
    const bool keep_u = !Training || dx != x;
    // Generic (V a batch or a simd::wide of them): the driver may hand several rows at once.
    const auto u_of = [](const auto& p, const auto& x, const auto& dy, const auto& d, auto& ga,
                         auto& gz) {
      using V = std::decay_t<decltype(x)>;
      V q;
      const V pr = dice_math::gate_pq(dice_math::gate_z(d, p[1], p[2]), q);
      return dice_math::dx(x, pr, q, p[3], p[4], p[5], dy, ga, gz);
    };
    const std::array<const T*, 6> p6{hi, w(kG), w(kO), alpha.data(), w(kA1), w(kK)};
    channelwise<A>(s, p6, std::array<const T*, 2>{x, dy}, keep_u ? dx : (T*)nullptr,
                   std::array<T*, 3>{w(kS0), w(kS1), w(kS2)},
                   [&u_of](const auto& p, const auto& v, auto& t) {
                     const auto d = v[0] - p[0];
                     const auto u = u_of(p, v[0], v[1], d, t[0], t[1]);
                     t[2] = t[1] * d;
                     return u;
                   });
    const std::size_t n = s.per_channel();
    for (std::size_t c = 0; c < C; ++c) {
      const T sg = w(kS1)[c];                                   // sum gz
      const T sx = rstd[c] * w(kS2)[c] - rstd[c] * lo[c] * sg;  // sum gz xhat
      grad_alpha[c] = w(kS0)[c];
      grad_beta[c] = Affine ? sg : T(0);
      grad_gamma[c] = Affine ? sx : T(0);
      // dx = u - k (mean(gz) + xhat mean(gz xhat)) = u - (d c1 + c0), xhat = d rstd - lo rstd.
      const T m1 = n ? sg / T(n) : T(0), m2 = n ? sx / T(n) : T(0);
      w(kM1)[c] = w(kK)[c] * (m2 * rstd[c]);                 // c1
      w(kM2)[c] = w(kK)[c] * (m1 - m2 * (rstd[c] * lo[c]));  // c0
    }
    if (!Training) return;
    // Pass 2: dx through the batch statistics.
    if (keep_u) {
      const std::array<const T*, 3> p3{hi, w(kM1), w(kM2)};
      channelwise<A>(s, p3, std::array<const T*, 2>{x, dx}, dx, std::array<T*, 0>{},
                     [](const std::array<B, 3>& p, const std::array<B, 2>& v, std::array<B, 0>&) {
                       return v[1] - simd::fma(v[0] - p[0], p[1], p[2]);
                     });
      return;
    }
    const std::array<const T*, 8> p8{hi, w(kG), w(kO), alpha.data(), w(kA1), w(kK), w(kM1), w(kM2)};
    channelwise<A>(s, p8, std::array<const T*, 2>{x, dy}, dx, std::array<T*, 0>{},
                   [&u_of](const auto& p, const auto& v, auto&) {
                     using V = std::decay_t<decltype(v[0])>;
                     const V d = v[0] - p[0];
                     V ga, gz;
                     const std::array<V, 6> p6{p[0], p[1], p[2], p[3], p[4], p[5]};
                     const V u = u_of(p6, v[0], v[1], d, ga, gz);
                     return u - simd::fma(d, p[6], p[7]);
                   });
  }
};

}  // namespace xact

XACT_DIAGNOSTICS_END
