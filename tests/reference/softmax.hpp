// Reference softmax and log-softmax in long double (64-bit significand), one row at a time,
// written from the definitions with the documented conventions for degenerate rows (see
// include/xact/functions/softmax.hpp). Kept apart from the library code.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
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

using LD = long double;

// Row max and sum of e^(x - max); nan_row flags a row with NaN or +inf.
struct softmax_stats {
  LD max = -std::numeric_limits<LD>::infinity();
  LD sum = 0;
  LD rest = 0;
  bool nan_row = false;
};

template <class T>
inline softmax_stats softmax_row_stats(const T* x, std::size_t n) {
  softmax_stats s;
  for (std::size_t i = 0; i < n; ++i) {
    const LD v = x[i];
    if (std::isnan(v) || v == std::numeric_limits<LD>::infinity()) s.nan_row = true;
    if (v > s.max) s.max = v;
  }
  if (s.nan_row) return s;
  if (s.max == -std::numeric_limits<LD>::infinity()) return s;
  // The sum less the max's own term 1, so that log(sum) = log1p(rest) keeps its relative
  // accuracy when one entry dominates (1 + rest would round rest away in long double).
  bool skipped = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!skipped && LD(x[i]) == s.max) {
      skipped = true;
      continue;
    }
    s.rest += std::exp(LD(x[i]) - s.max);
  }
  s.sum = 1 + s.rest;
  return s;
}

// y_i = e^(x_i - max) / sum; a row of -inf gives zeros; a row with NaN or +inf gives NaN.
template <class T>
inline std::vector<LD> softmax_row(const T* x, std::size_t n) {
  const softmax_stats s = softmax_row_stats(x, n);
  std::vector<LD> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (s.nan_row)
      y[i] = std::numeric_limits<LD>::quiet_NaN();
    else if (s.max == -std::numeric_limits<LD>::infinity())
      y[i] = 0;
    else
      y[i] = std::exp(LD(x[i]) - s.max) / s.sum;
  }
  return y;
}

// y_i = (x_i - max) - log(sum); a row of -inf gives -inf.
template <class T>
inline std::vector<LD> log_softmax_row(const T* x, std::size_t n) {
  const softmax_stats s = softmax_row_stats(x, n);
  std::vector<LD> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (s.nan_row)
      y[i] = std::numeric_limits<LD>::quiet_NaN();
    else if (s.max == -std::numeric_limits<LD>::infinity())
      y[i] = -std::numeric_limits<LD>::infinity();
    else
      y[i] = (LD(x[i]) - s.max) - std::log1p(s.rest);
  }
  return y;
}

// dx = y (dy - sum(dy y)), from the given y (the analytic gradient at that y).
template <class T>
inline std::vector<LD> softmax_grad_row(const T* y, const T* dy, std::size_t n) {
  LD dot = 0;
  for (std::size_t i = 0; i < n; ++i) dot += LD(dy[i]) * LD(y[i]);
  std::vector<LD> dx(n);
  for (std::size_t i = 0; i < n; ++i) dx[i] = LD(y[i]) * (LD(dy[i]) - dot);
  return dx;
}

// dx = dy - e^y sum(dy); a row of all -inf gives 0.
template <class T>
inline std::vector<LD> log_softmax_grad_row(const T* y, const T* dy, std::size_t n) {
  LD s = 0;
  bool all_ninf = true;
  for (std::size_t i = 0; i < n; ++i) {
    s += dy[i];
    if (y[i] != -std::numeric_limits<T>::infinity()) all_ninf = false;
  }
  std::vector<LD> dx(n);
  for (std::size_t i = 0; i < n; ++i) dx[i] = all_ninf ? 0 : LD(dy[i]) - std::exp(LD(y[i])) * s;
  return dx;
}

}  // namespace ref

#if defined(__FAST_MATH__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
