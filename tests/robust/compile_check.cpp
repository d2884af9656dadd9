// Instantiates every public function of xact over float and double for whatever target the
// compiler has (used by the cross-compile check: AArch64 NEON). Compile only.
#include <cstddef>
#include <xact/xact.hpp>

namespace {

template <class Op, class T>
void instantiate(const Op& op, const T* x, T* y, const T* dy, T* dx, std::size_t n) {
  using B = xsimd::batch<T>;
  if constexpr (xact::detail::has_forward<Op, B>::value) xact::forward(op, x, y, n);
  if constexpr (xact::detail::has_backward_from_x<Op, B>::value)
    xact::backward_from_x(op, x, dy, dx, n);
  if constexpr (xact::detail::has_backward_from_y<Op, B>::value)
    xact::backward_from_y(op, y, dy, dx, n);
}

template <class T>
void all(const T* x, T* y, const T* dy, T* dx, std::size_t n) {
  instantiate(xact::sigmoid{}, x, y, dy, dx, n);
  instantiate(xact::relu{}, x, y, dy, dx, n);
  y[0] = xact::math::exp(x[0]);
}

}  // namespace

void xact_compile_check_f(const float* x, float* y, const float* dy, float* dx, std::size_t n) {
  all(x, y, dy, dx, n);
}
void xact_compile_check_d(const double* x, double* y, const double* dy, double* dx, std::size_t n) {
  all(x, y, dy, dx, n);
}
