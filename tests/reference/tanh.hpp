// Reference tanh and its derivatives in higher precision (R = double for float, long double for
// double), kept apart from the library code.
#pragma once

#include <cmath>

namespace ref {

template <class R>
R tanh(R x) {
  return std::tanh(x);
}
// tanh'(x) = 1 - tanh^2 x = 4e / (1 + e)^2 with e = e^-2|x|: 1 - tanh^2 would cancel in R too.
template <class R>
R tanh_grad(R x) {
  const R e = std::exp(-2 * std::fabs(x));
  return 4 * e / ((1 + e) * (1 + e));
}
template <class R>
R tanh_grad_y(R y) {
  return (1 - y) * (1 + y);
}

}  // namespace ref
