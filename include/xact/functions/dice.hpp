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
//   Statistics per feature over every other axis (N, and T or the spatial axes): the mean by a
//   compensated sum, then the variance by the corrected two-pass formula
//   var = (sum d^2 - (sum d)^2 / n) / n with d = x - mean0 (compensated sums), never
//   E[x^2] - E[x]^2, which cancels. Biased variance in the normalization; the running variance
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
//     batch statistics of 2^20 values at mean 1e4: mean within 0.3 eps, variance 1.6 eps;
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
  // The mean arrives as hi + lo (the first-pass mean and its correction): x - hi is exact for x
  // near the mean (Sterbenz), so xhat is accurate relative to x - mean, not to x.
  template <class V>
  static V xhat(const V& x, const V& mean_hi, const V& mean_lo, const V& rstd) noexcept {
    return ((x - mean_hi) - mean_lo) * rstd;
  }
  template <class V>
  static V gate_input(const V& xh, const V& gamma, const V& beta, bool affine) noexcept {
    return affine ? simd::fma(gamma, xh, beta) : xh;
  }
  template <class V>
  static V gate(const V& xh, const V& gamma, const V& beta, bool affine) noexcept {
    return sigmoid{}.forward(gate_input(xh, gamma, beta, affine));
  }
  // p = sigmoid(z) and q = 1 - p = sigmoid(-z), each to sigmoid's accuracy from one exp: p is
  // bit-identical to sigmoid{}.forward(z); q does not cancel where p rounds to 1 (backward
  // needs p q = e^-|z| / (1 + e^-|z|)^2 there, not 0).
  template <class V>
  static V gate_pq(const V& z, V& q) noexcept {
    const V e = math::exp_nonpositive(-simd::abs(z));
    const auto pos = z >= V(0);  // false for NaN: e (NaN) flows into both
    V rinv;
    const V p = sigmoid::quotient(e, pos, rinv);
    // q = num / (1 + e) with the other numerator: q0 from rinv (within 2 ulps), then the same
    // exact-residual correction as sigmoid's quotient.
    const V num = simd::select(pos, e, V(1));
    const V q0 = num * rinv;
    q = simd::fma(sigmoid::residual(q0, e, num - q0), rinv, q0);
    return p;
  }
  // x (alpha + (1 - alpha) p): the factor is a convex mix of alpha and 1 for p in [0, 1].
  template <class V>
  static V factor(const V& p, const V& alpha) noexcept {
    return simd::fma(V(1) - alpha, p, alpha);
  }
  template <class V>
  static V forward(const V& x, const V& p, const V& alpha) noexcept {
    return x * factor(p, alpha);
  }
  // gz = dy x (1 - alpha) p q; also returns dy x q (dalpha's term) in ga. x is multiplied by
  // q or p q before dy, so nothing overflows where the result is finite (x q -> 0 as
  // x -> +inf, x p q -> 0 both ways).
  template <class V>
  static V grad_z(const V& x, const V& p, const V& q, const V& alpha, const V& dy, V& ga) noexcept {
    // At x = +-inf the limits are taken: x q -> 0 where q = 0, x p q -> 0 where p = 0 (not the
    // NaN of inf * 0); NaN x keeps NaN (p, q NaN).
    const V xq = simd::select(q == V(0), V(0), x * q);
    ga = dy * xq;
    return (dy * simd::select(p == V(0), V(0), xq * p)) * (V(1) - alpha);
  }
};

// Dice with fixed statistics as an elementwise functor (one feature): inference mode, or the
// accuracy tests. mean, rstd = 1/sqrt(var + eps), alpha, gamma, beta.
struct dice_fixed {
  double mean = 0, rstd = 1, alpha = 0, gamma = 1, beta = 0;
  bool affine = false;

  template <class V>
  V forward(const V& x) const noexcept {
    using S = simd::scalar_t<V>;
    const V xh = dice_math::xhat(x, V(S(mean)), V(S(0)), V(S(rstd)));
    const V p = dice_math::gate(xh, V(S(gamma)), V(S(beta)), affine);
    return dice_math::forward(x, p, V(S(alpha)));
  }
  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    using S = simd::scalar_t<V>;
    const V a = V(S(alpha));
    const V xh = dice_math::xhat(x, V(S(mean)), V(S(0)), V(S(rstd)));
    V q;
    const V p = dice_math::gate_pq(dice_math::gate_input(xh, V(S(gamma)), V(S(beta)), affine), q);
    V ga;
    const V gz = dice_math::grad_z(x, p, q, a, dy, ga);
    const V k = V(S(affine ? gamma * rstd : rstd));
    return simd::fma(k, gz, dy * dice_math::factor(p, a));
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
        work_(kWork * features, T(0)) {}

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
  enum : std::size_t { kS0, kS1, kS2, kHi, kLo, kRstd, kK, kM1, kM2, kZero, kWork };

  T eps_, momentum_;
  bool affine_;
  std::vector<T> work_;
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

  template <class A>
  void batch_stats(const channel_shape& s, const T* x) {
    using B = xsimd::batch<T, A>;
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
  template <class A, bool Affine>
  void walk_forward(const channel_shape& s, const T* x, T* y, const T* hi, const T* lo,
                    const T* rstd) {
    using B = xsimd::batch<T, A>;
    channelwise<A>(s,
                   std::array<const T*, 6>{hi, lo, rstd, alpha.data(), gamma.data(), beta.data()},
                   std::array<const T*, 1>{x}, y, std::array<T*, 0>{},
                   [](const std::array<B, 6>& p, const std::array<B, 1>& v, std::array<B, 0>&) {
                     const B xh = dice_math::xhat(v[0], p[0], p[1], p[2]);
                     return dice_math::forward(v[0], dice_math::gate(xh, p[4], p[5], Affine), p[3]);
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
    // With one value per feature in training, x - mean is identically 0 and dx is the direct
    // term alone: k = 0 makes it exact (u below would otherwise cancel k gz against k mean(gz)).
    const bool single = Training && s.per_channel() == 1;
    for (std::size_t c = 0; c < C; ++c)
      w(kK)[c] = single ? T(0) : Affine ? gamma[c] * rstd[c] : rstd[c];
    // Pass 1: the three sums, and u = dy (alpha + (1 - alpha) p) + k gz into dx: dx itself with
    // fixed statistics; in training, pass 2 then only subtracts k (mean(gz) + xhat mean(gz xhat))
    // and need not evaluate the sigmoid again (unless dx is x, which pass 2 must still read).
    const bool keep_u = !Training || dx != x;
    const std::array<const T*, 7> p7{hi, lo, rstd, alpha.data(), gamma.data(), beta.data(), w(kK)};
    channelwise<A>(s, p7, std::array<const T*, 2>{x, dy}, keep_u ? dx : (T*)nullptr,
                   std::array<T*, 3>{w(kS0), w(kS1), w(kS2)},
                   [](const std::array<B, 7>& p, const std::array<B, 2>& v, std::array<B, 3>& t) {
                     const B xh = dice_math::xhat(v[0], p[0], p[1], p[2]);
                     B q;
                     const B pr =
                         dice_math::gate_pq(dice_math::gate_input(xh, p[4], p[5], Affine), q);
                     const B gz = dice_math::grad_z(v[0], pr, q, p[3], v[1], t[0]);
                     t[1] = gz;
                     t[2] = gz * xh;
                     return simd::fma(p[6], gz, v[1] * dice_math::factor(pr, p[3]));
                   });
    const std::size_t n = s.per_channel();
    for (std::size_t c = 0; c < C; ++c) {
      grad_alpha[c] = w(kS0)[c];
      grad_beta[c] = Affine ? w(kS1)[c] : T(0);
      grad_gamma[c] = Affine ? w(kS2)[c] : T(0);
      w(kM1)[c] = n ? w(kS1)[c] / T(n) : T(0);
      w(kM2)[c] = n ? w(kS2)[c] / T(n) : T(0);
    }
    if (!Training) return;
    // Pass 2: dx through the batch statistics.
    if (keep_u) {
      const std::array<const T*, 6> p6{hi, lo, rstd, w(kK), w(kM1), w(kM2)};
      channelwise<A>(s, p6, std::array<const T*, 2>{x, dx}, dx, std::array<T*, 0>{},
                     [](const std::array<B, 6>& p, const std::array<B, 2>& v, std::array<B, 0>&) {
                       const B xh = dice_math::xhat(v[0], p[0], p[1], p[2]);
                       return simd::fma(-p[3], simd::fma(xh, p[5], p[4]), v[1]);
                     });
      return;
    }
    const std::array<const T*, 9> p9{hi,          lo,    rstd,   alpha.data(), gamma.data(),
                                     beta.data(), w(kK), w(kM1), w(kM2)};
    channelwise<A>(s, p9, std::array<const T*, 2>{x, dy}, dx, std::array<T*, 0>{},
                   [](const std::array<B, 9>& p, const std::array<B, 2>& v, std::array<B, 0>&) {
                     const B xh = dice_math::xhat(v[0], p[0], p[1], p[2]);
                     B q;
                     const B pr =
                         dice_math::gate_pq(dice_math::gate_input(xh, p[4], p[5], Affine), q);
                     B ga;
                     const B gz = dice_math::grad_z(v[0], pr, q, p[3], v[1], ga);
                     // gz - mean(gz) - xhat mean(gz xhat)
                     const B g = simd::fma(-xh, p[8], gz - p[7]);
                     return simd::fma(p[6], g, v[1] * dice_math::factor(pr, p[3]));
                   });
  }
};

}  // namespace xact
