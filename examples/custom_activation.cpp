// Your own activation, run by xact's drivers: write the math once over V (a float, a double or
// an xsimd batch) using xact::simd:: helpers and other xact functions, and every driver (arrays,
// ranges, Eigen) runs it with SIMD, the tail through the same batch code.
//
// Here: GELU, tanh approximation (Hendrycks and Gimpel, 2016)
//   f(x)  = x/2 (1 + tanh(u)),  u = k (x + c x^3),  k = sqrt(2/pi), c = 0.044715
//   f'(x) = s + x s (1 - s) 2k (1 + 3c x^2)    with s = (1 + tanh(u))/2 = sigmoid(2u)
// Written with xact::sigmoid (1 + tanh(u) = 2 sigmoid(2u)), which is accurate and never
// overflows. The program checks it against the formula in double precision and exits non-zero
// on a mismatch.
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>
#include <xact/xact.hpp>

struct gelu_tanh {
  template <class V>
  static V two_u(const V& x) noexcept {
    // 2k = 2 sqrt(2/pi), 2kc = 2 sqrt(2/pi) 0.044715
    return xact::simd::fma(V(0.0713548162726008) * x, x * x, V(1.5957691216057308) * x);
  }

  template <class V>
  V forward(const V& x) const noexcept {
    const V s = xact::sigmoid{}.forward(two_u(x));
    // At x = -inf, s = 0 and x s would be NaN: the limit is -0. (NaN: s is NaN, kept.)
    return xact::simd::select(s == V(0), V(-0.0), x * s);
  }

  template <class V>
  V backward_from_x(const V& x, const V& dy) const noexcept {
    const V s = xact::sigmoid{}.forward(two_u(x));
    const V du = xact::simd::fma(V(0.2140644488178024), x * x, V(1.5957691216057308));
    const V d = xact::simd::fma(x * s * (V(1) - s), du, s);
    // Far left, s = 0 while x^2 may be inf: the derivative's limit is 0.
    return dy * xact::simd::select(s == V(0), V(0), d);
  }

  template <class T>
  T operator()(T x) const noexcept {
    return forward(x);
  }
};

// The formula in double, with 1 + tanh(u) = 2 / (1 + e^-2u): std::tanh itself would not do
// as a reference, since 1 + tanh(u) loses every digit once tanh(u) rounds to -1 (x < -6).
static double gelu_ref(double x) {
  const double k = std::sqrt(2.0 / M_PI), u = k * (x + 0.044715 * x * x * x);
  return x / (1.0 + std::exp(-2.0 * u));
}
static double gelu_grad_ref(double x) {
  const double k = std::sqrt(2.0 / M_PI), u = k * (x + 0.044715 * x * x * x);
  const double s = 1.0 / (1.0 + std::exp(-2.0 * u));  // (1 + tanh(u)) / 2
  return s + 2.0 * x * s * (1.0 - s) * k * (1.0 + 3 * 0.044715 * x * x);
}

int main() {
  // 1025 points on [-8, 8]: a length that is not a multiple of any SIMD width.
  const std::size_t n = 1025;
  std::vector<float> x(n), y(n), dy(n, 1.f), dx(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = -8.f + 16.f * float(i) / float(n - 1);

  const gelu_tanh gelu;
  xact::forward(gelu, x, y);
  xact::backward_from_x(gelu, x, dy, dx);

  int bad = 0;
  double worst_f = 0, worst_d = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // Relative error; f' crosses zero near x = -0.75, where its two terms cancel: there the
    // error is measured against the size of the terms (about 0.1) instead.
    const double f = gelu_ref(x[i]), d = gelu_grad_ref(x[i]);
    const double ef = std::fabs(y[i] - f) / std::fabs(f == 0 ? 1 : f);
    const double ed = std::fabs(dx[i] - d) / std::fmax(std::fabs(d), 0.1);
    worst_f = std::fmax(worst_f, ef);
    worst_d = std::fmax(worst_d, ed);
    // f inherits the float rounding of u magnified by |2u| (up to 70 on [-8, 8]): 3e-5.
    if (ef > 3e-5 || ed > 1e-5) {
      if (++bad <= 5)
        std::printf("mismatch at x = %g: f %g vs %g, f' %g vs %g\n", x[i], y[i], gelu_ref(x[i]),
                    dx[i], gelu_grad_ref(x[i]));
    }
    // A scalar call gives the very same bits as the array (SIMD) call.
    if (gelu(x[i]) != y[i]) ++bad;
  }
  const float inf = std::numeric_limits<float>::infinity();
  if (!(gelu(inf) == inf && gelu(-inf) == 0.f && std::signbit(gelu(-inf)) &&
        std::isnan(gelu(std::nanf(""))) && gelu(0.f) == 0.f))
    ++bad;

  std::printf("gelu_tanh on [-8, 8], %zu points: max relative error %.2e (f), %.2e (f')\n", n,
              worst_f, worst_d);
  std::printf("gelu(-1) = %.6f   gelu(1) = %.6f   gelu'(0) = %.6f\n", gelu(-1.f), gelu(1.f),
              double(gelu_tanh{}.backward_from_x(0.f, 1.f)));
  std::printf(bad ? "FAILED (%d mismatches)\n" : "OK\n", bad);
  return bad ? 1 : 0;
}
