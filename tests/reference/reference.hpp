// Reference formulas in higher precision (R = double for float results, long double for double
// results), written from the textbook definitions and kept apart from the library code. Where
// the textbook form loses accuracy even in R, a mathematically identical form that does not is
// used, and the comment says so.
#pragma once

#include <cmath>
#include <limits>

namespace ref {

template <class R>
R sigmoid(R x) {
  return R(1) / (R(1) + std::exp(-x));
}
// s'(x) = e^-|x| / (1 + e^-|x|)^2: 1 - s(x) would cancel in R too for large |x|.
template <class R>
R sigmoid_grad(R x) {
  const R e = std::exp(-std::fabs(x));
  return e / ((R(1) + e) * (R(1) + e));
}
template <class R>
R sigmoid_grad_y(R y) {
  return y * (R(1) - y);
}

template <class R>
R relu(R x) {
  return std::isnan(x) ? x : (x > 0 ? x : R(0));
}
template <class R>
R relu_grad(R x) {
  return std::isnan(x) ? x : (x > 0 ? R(1) : R(0));
}

template <class R>
R exp(R x) {
  return std::exp(x);
}

}  // namespace ref
