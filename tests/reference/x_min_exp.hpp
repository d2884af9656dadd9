// Reference for x * min(1, e^x) in higher precision (R = double for float results, long double
// for double results), from the definition.
#pragma once

#include <cmath>

namespace ref {

template <class R>
R x_min_exp(R x) {
  if (std::isnan(x)) return x;
  if (std::isinf(x)) return x > 0 ? x : R(-0.0);  // the limit of x e^x, not -inf * 0
  return x >= 0 ? x : x * std::exp(x);
}
// 1 for x >= 0, e^x (1 + x) below; 1 + x is exact in R for the tested types.
template <class R>
R x_min_exp_grad(R x) {
  if (std::isnan(x)) return x;
  if (std::isinf(x)) return x > 0 ? R(1) : R(0);
  return x >= 0 ? R(1) : std::exp(x) * (R(1) + x);
}

}  // namespace ref
