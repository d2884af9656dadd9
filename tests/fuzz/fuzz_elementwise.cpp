// libFuzzer target for the elementwise driver: every registered accuracy case (every function,
// direction and type in xt::registry), at fuzzed lengths and offsets, on fuzzed values with
// NaN, +-inf, +-0, subnormals and extremes mixed in, and fuzzed dy. Checks:
//   - every output against the long double reference within the case's bound (strict ULP),
//   - tail = body: each element recomputed at another position (other n, other offset) and in
//     place gives the same bits,
//   - no access outside the exactly-sized heap buffers (ASan).
// Input layout: [case][n lo][n hi][offset][shift] then per element [kind][raw bits...].
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "fuzz_input.hpp"
#include "support.hpp"

namespace {

// The input's bytes, then a stream seeded by them (fuzz_input.hpp): short inputs fill long arrays.
using xf::Bytes;

template <class T>
T value(Bytes& in) {
  using L = std::numeric_limits<T>;
  const std::uint8_t kind = in.u8();
  const xt::bits_t<T> r = in.raw<xt::bits_t<T>>();
  const T sub = xt::from_bits<T>(r & (xt::bits(L::min()) - 1));  // a subnormal (or 0)
  switch (kind % 16) {
    case 0:
      return L::quiet_NaN();
    case 1:
      return L::infinity();
    case 2:
      return -L::infinity();
    case 3:
      return (kind & 16) ? T(-0.0) : T(0);
    case 4:
      return (kind & 16) ? -sub : sub;
    case 5:
      return (kind & 16) ? L::lowest() : L::max();
    case 6:
      return (kind & 16) ? -L::min() : L::min();
    case 7:
      return T(static_cast<std::int8_t>(r & 0xff)) / T(4);  // small exact values
    default:
      return xt::from_bits<T>(r);  // anything, NaN payloads too
  }
}

[[noreturn]] void fail(const char* what, const std::string& fn, const std::string& dir,
                       std::size_t n, std::size_t i, double x, double dy, double got, double want) {
  std::fprintf(stderr, "fuzz_elementwise: %s: %s %s n=%zu i=%zu x=%a dy=%a got %a want %a\n", what,
               fn.c_str(), dir.c_str(), n, i, x, dy, got, want);
  std::abort();
}

template <class T>
void run(Bytes& in, std::size_t which) {
  const auto& cases = xt::registry<T>();
  if (cases.empty()) return;
  const auto& c = cases[which % cases.size()];
  constexpr std::size_t W = xsimd::batch<T>::size;
  const std::size_t n = (in.u8() | (std::size_t(in.u8()) << 8)) % 257;
  const std::size_t off = in.u8() % (2 * W + 1);
  const std::size_t shift = 1 + in.u8() % (2 * W);
  // Exactly sized heap buffers: x and dy start `off` elements in.
  std::unique_ptr<T[]> x(new T[off + n]), dy(new T[off + n]), out(new T[n]);
  for (std::size_t i = 0; i < off + n; ++i) {
    x[i] = value<T>(in);
    dy[i] = c.backward() ? value<T>(in) : T(1);
  }
  c.run(x.get() + off, dy.get() + off, out.get(), n);
  for (std::size_t i = 0; i < n; ++i) {
    const T xi = x[off + i], gi = dy[off + i];
    if (!(xi >= c.lo && xi <= c.hi)) continue;
    const xt::wide_t<T> r = c.ref(xi, gi);
    // The reference's own limits (found by fuzzing, session 6; not xact's):
    // dy = +-inf where the reference's f'(x), rounded in the wider type, underflowed to 0: it
    // says inf * 0 = NaN where the true dx is +-inf (or NaN where f' is exactly 0). Any
    // infinite or NaN result is accepted there; a finite one is not.
    if (std::isinf(gi) && !std::isnan(xi) && std::isnan(r) && c.ref(xi, T(1)) == 0) {
      if (!(std::isnan(out[i]) || std::isinf(out[i])))
        fail("dy = inf, finite result", c.function, c.direction, n, i, xi, gi, out[i], T(0));
      continue;
    }
    const T want = static_cast<T>(r);
    double e = xt::ulp_distance(out[i], want);
    // +-inf counts as one step beyond +-max, both ways: a true value just past max rounds to
    // inf, xact's max is then 1 step away, not infinitely far; and a true value just below the
    // rounding threshold past max rounds to max, where a result off by a fraction of an ulp
    // may round to inf (fuzzing, session 7: Dice's dx = dy f' at dy = -FLT_MAX, f' = 1 +
    // 2.88e-8, computed 0.025 ulp high: -inf for -FLT_MAX).
    if ((std::isinf(want) || std::isinf(out[i])) &&
        std::fmin(std::fabs(out[i]), std::fabs(want)) == std::numeric_limits<T>::max() &&
        std::signbit(want) == std::signbit(out[i]))
      e = 1;
    // A bound of 0 (exact products, double): the long double reference rounds twice (to 64
    // bits, then to 53), so it may be 1 step from the correctly rounded product.
    if (c.bound == 0 && e == 1 && sizeof(T) == 8 && c.backward()) e = 0;
    if (e > 0 && c.abs_floor > 0 && std::fabs((long double)r) <= c.abs_floor &&
        std::fabs((long double)out[i] - (long double)r) <= c.abs_floor)
      e = 0;
    if (e > c.bound) fail("beyond bound", c.function, c.direction, n, i, xi, gi, out[i], want);
  }
  // The same elements at another position: `shift` more elements before them, a different n.
  const std::size_t m = shift + n;
  std::unique_ptr<T[]> x2(new T[m]), dy2(new T[m]), out2(new T[m]);
  for (std::size_t i = 0; i < shift; ++i) {
    x2[i] = T(0.5);
    dy2[i] = T(1);
  }
  for (std::size_t i = 0; i < n; ++i) {
    x2[shift + i] = x[off + i];
    dy2[shift + i] = dy[off + i];
  }
  c.run(x2.get(), dy2.get(), out2.get(), m);
  for (std::size_t i = 0; i < n; ++i)
    if (!xt::same_bits(out2[shift + i], out[i]))
      fail("position changes bits", c.function, c.direction, n, i, x[off + i], dy[off + i],
           out2[shift + i], out[i]);
  // In place over the input.
  c.run(x2.get(), dy2.get(), x2.get(), m);
  for (std::size_t i = 0; i < n; ++i)
    if (!xt::same_bits(x2[shift + i], out[i]))
      fail("in place changes bits", c.function, c.direction, n, i, x[off + i], dy[off + i],
           x2[shift + i], out[i]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in{data, size};
  const std::uint8_t sel = in.u8();
  if (sel & 1)
    run<double>(in, sel >> 1);
  else
    run<float>(in, sel >> 1);
  return 0;
}
