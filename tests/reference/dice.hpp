// Dice reference in long double, from the paper's definition with batch-norm statistics: mean
// and biased variance by the textbook two-pass formula, p = 1 / (1 + e^-z), y = p x + (1-p) a x.
// Kept apart from the library code.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

// The -ffast-math test build (flags.fast_math) compiles this file with -ffast-math too: its
// reassociation would fold the compensated steps here (the double-word constants, (x - m) -
// log1p(r) into x - (m + log1p(r))) and put the reference itself thousands of ulps off. The
// reference is therefore built without the fast-math rewrites (GCC; no-op otherwise).
#if defined(__FAST_MATH__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-fast-math")
#endif

namespace ref {

struct dice_setup {
  std::size_t N = 1, C = 1, inner = 1;
  bool last = false;  // channels_last: [N, inner, C]
  long double eps = 1e-8L;
  bool affine = false;
  bool training = true;
  std::vector<long double> alpha, gamma, beta;  // size C (gamma, beta only when affine)
  std::vector<long double> mean, var;           // inference: the running statistics
  std::size_t channel(std::size_t e) const { return last ? e % C : (e / inner) % C; }
};

// y for every element; the batch mean and biased variance (training) are returned in
// mean_out / var_out when given.
inline std::vector<long double> dice_forward(const dice_setup& s, const std::vector<long double>& x,
                                             std::vector<long double>* mean_out = nullptr,
                                             std::vector<long double>* var_out = nullptr) {
  std::vector<long double> mean = s.mean, var = s.var;
  if (s.training) {
    std::vector<long double> cnt(s.C, 0);
    mean.assign(s.C, 0);
    var.assign(s.C, 0);
    for (std::size_t e = 0; e < x.size(); ++e) {
      mean[s.channel(e)] += x[e];
      cnt[s.channel(e)] += 1;
    }
    for (std::size_t c = 0; c < s.C; ++c) mean[c] /= cnt[c];
    for (std::size_t e = 0; e < x.size(); ++e) {
      const long double d = x[e] - mean[s.channel(e)];
      var[s.channel(e)] += d * d;
    }
    for (std::size_t c = 0; c < s.C; ++c) var[c] /= cnt[c];
  }
  if (mean_out) *mean_out = mean;
  if (var_out) *var_out = var;
  std::vector<long double> y(x.size());
  for (std::size_t e = 0; e < x.size(); ++e) {
    const std::size_t c = s.channel(e);
    long double z = (x[e] - mean[c]) / std::sqrt(var[c] + s.eps);
    if (s.affine) z = s.gamma[c] * z + s.beta[c];
    const long double p = 1 / (1 + std::exp(-z));
    y[e] = p * x[e] + (1 - p) * s.alpha[c] * x[e];
  }
  return y;
}

// sum of dy * y: the loss whose derivatives the backward pass computes.
inline long double dice_loss(const dice_setup& s, const std::vector<long double>& x,
                             const std::vector<long double>& dy) {
  const std::vector<long double> y = dice_forward(s, x);
  long double l = 0;
  for (std::size_t e = 0; e < y.size(); ++e) l += dy[e] * y[e];
  return l;
}

}  // namespace ref

#if defined(__FAST_MATH__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
