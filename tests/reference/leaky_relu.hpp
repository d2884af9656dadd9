// Reference for LeakyReLU in higher precision (R = double for float results, long double for
// double results), from the definition.
#pragma once

#include <cmath>

namespace ref {

template <class R>
R leaky_relu(R x, R slope) {
  if (std::isnan(x)) return x;
  if (x > 0) return x;
  if (std::isinf(x)) return slope == 0 ? R(-0.0) : slope * x;  // the limit of 0 * x: -0
  return slope * x;
}
template <class R>
R leaky_relu_grad(R x, R slope) {
  if (std::isnan(x)) return x;
  return x > 0 ? R(1) : slope;
}

}  // namespace ref
