// Reference softplus (PyTorch's semantics) in higher precision, kept apart from the library code.
//   softplus(x) = log(1 + e^(beta x)) / beta, and x where beta * x > threshold, the test
//   `beta * x > threshold` made in T (the tensor's type, as PyTorch does) and everything else
//   computed in R (double for float, long double for double).
#pragma once

#include <cmath>
#include <limits>

namespace ref {

// log(1 + e^z) without overflow or cancellation in R.
template <class R>
R softplus_z(R z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

template <class T, class R>
bool softplus_beyond(R x, double beta, double threshold) {
  return static_cast<T>(beta) * static_cast<T>(x) > static_cast<T>(threshold);
}

template <class T, class R>
R softplus(R x, double beta, double threshold) {
  if (std::isnan(x)) return x;
  if (softplus_beyond<T>(x, beta, threshold)) return x;
  if (std::isinf(x)) return x > 0 ? x : R(0);
  const R b = static_cast<T>(beta);
  return softplus_z(b * x) / b;
}

// d/dx: the logistic sigmoid of beta x; 1 beyond the threshold.
template <class T, class R>
R softplus_grad(R x, double beta, double threshold) {
  if (std::isnan(x)) return x;
  if (softplus_beyond<T>(x, beta, threshold)) return R(1);
  const R z = static_cast<T>(beta) * x;
  return z >= 0 ? R(1) / (R(1) + std::exp(-z)) : std::exp(z) / (R(1) + std::exp(z));
}

}  // namespace ref
