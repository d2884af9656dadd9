// Reference for Swish x s(beta x) in higher precision (R = double for float results, long double
// for double results). The stable sigmoid form (e^ of a non-positive number only) is used so
// that neither R's exp overflows nor 1 - s cancels.
#pragma once

#include <cmath>

// The -ffast-math test build (flags.fast_math) compiles this file with -ffast-math too: its
// reassociation would fold the compensated steps here (the double-word constants, (x - m) -
// log1p(r) into x - (m + log1p(r))) and put the reference itself thousands of ulps off. The
// reference is therefore built without the fast-math rewrites (GCC; no-op otherwise).
#if defined(__FAST_MATH__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-fast-math")
#endif

namespace ref {

template <class R>
R swish(R x, R beta = 1) {
  if (std::isnan(x)) return x;
  if (std::isinf(x)) {
    if (beta == 0) return x / 2;
    return (beta * x > 0) ? x : std::copysign(R(0), x);  // x e^-|beta x| -> 0 with x's sign
  }
  const R t = beta * x;
  const R e = std::exp(-std::fabs(t));
  return t >= 0 ? x / (1 + e) : x * e / (1 + e);
}

// The zero of f' as a function of t = beta x: t0 + 1 + e^t0 = 0 (t0 = -1.27846454276107379511),
// as a pair of doubles (60-digit decimal Newton iteration; test_swish checks the residual).
constexpr double swish_t0_hi = -0x1.474973c84120bp+0;
constexpr double swish_t0_lo = -0x1.f8d74bc9ac154p-54;

// f'(x) = s + t s (1 - s). For t >= 0 both terms are positive. For t < 0,
// f' = e^t N / (1 + e^t)^2 with N = 1 + t + e^t, which cancels near t0 (in R too: long double
// alone would leave thousands of double ulps there). With dt = t - t0 and A = e^t0 = -(1 + t0),
// N = dt + A expm1(dt): both terms have dt's sign, no cancellation. t = beta x is kept exact
// (th + tl, fma in R).
template <class R>
R swish_grad(R x, R beta = 1) {
  if (std::isnan(x)) return x;
  if (std::isinf(x)) return beta == 0 ? R(0.5) : (beta * x > 0 ? R(1) : R(0));
  const R th = beta * x;
  const R tl = std::fma(beta, x, -th);
  if (th >= 0) {
    const R e = std::exp(-th);
    return 1 / (1 + e) + th * (e / ((1 + e) * (1 + e)));
  }
  const R et = std::exp(th) * (1 + tl);
  const R dt = ((th - R(swish_t0_hi)) - R(swish_t0_lo)) + tl;
  const R a = -(R(1) + R(swish_t0_hi)) - R(swish_t0_lo);
  const R n = dt + a * std::expm1(dt);
  return et * n / ((1 + et) * (1 + et));
}

// d/d(beta) of x s(beta x) = x^2 s(1 - s).
template <class R>
R swish_grad_beta(R x, R beta = 1) {
  if (std::isnan(x)) return x;
  if (std::isinf(x)) return beta == 0 ? R(INFINITY) : R(0);
  const R e = std::exp(-std::fabs(beta * x));
  return x * x * (e / ((1 + e) * (1 + e)));
}

}  // namespace ref

#if defined(__FAST_MATH__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
