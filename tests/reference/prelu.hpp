// PReLU reference in higher precision, from the definition (kept apart from the library).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ref {

// x * a correctly rounded to T. For float the product is exact in double and rounds once; for
// double, a long double product would round twice (64 bits, then 53 or fewer below DBL_MIN),
// so the exact 106-bit integer product is rounded to nearest even by hand.
inline float mul_rounded(float x, float a) { return static_cast<float>(double(x) * double(a)); }
inline double mul_rounded(double x, double a) {
  if (!std::isfinite(x) || !std::isfinite(a) || x == 0 || a == 0) return x * a;  // IEEE cases
  int ex, ea;
  const double fx = std::frexp(std::fabs(x), &ex), fa = std::frexp(std::fabs(a), &ea);
  __extension__ typedef unsigned __int128 u128;
  const u128 m = u128(std::uint64_t(std::ldexp(fx, 53))) * std::uint64_t(std::ldexp(fa, 53));
  const int e = ex + ea - 106;  // |x a| = m 2^e, m has 105 or 106 bits
  const int nb = (m >> 105) ? 106 : 105;
  int s = nb - 53;
  if (e + s < -1074) s = -1074 - e;  // subnormal result: fewer bits kept
  const bool neg = (x < 0) != (a < 0);
  double res;
  if (s >= 127) {
    res = 0;  // below half the smallest subnormal
  } else {
    u128 q = m >> s;
    const u128 r = m - (q << s), half = u128(1) << (s - 1);
    if (r > half || (r == half && (q & 1))) ++q;
    res = std::ldexp(static_cast<double>(q), e + s);
  }
  return neg ? -res : res;
}

template <class R>
R prelu(R x, R alpha) {
  return x > 0 ? x : alpha * x;
}
// The slope at x (alpha on x <= 0, the PyTorch convention at the kink); NaN for NaN x.
template <class R>
R prelu_grad(R x, R alpha) {
  return std::isnan(x) ? x : (x > 0 ? R(1) : alpha);
}

// The channel of flat element e of [N, C, inner] (channels_last: [N, inner, C]).
inline std::size_t channel_of(std::size_t e, std::size_t C, std::size_t inner, bool last) {
  return last ? e % C : (e / inner) % C;
}

// dalpha per channel: the products dy*x over x <= 0 (NaN x included) summed in long double.
template <class T>
std::vector<long double> prelu_dalpha(const std::vector<T>& x, const std::vector<T>& dy,
                                      std::size_t C, std::size_t inner, bool last) {
  std::vector<long double> s(C, 0.0L);
  for (std::size_t e = 0; e < x.size(); ++e)
    if (!(x[e] > 0)) s[channel_of(e, C, inner, last)] += (long double)dy[e] * (long double)x[e];
  return s;
}

}  // namespace ref
