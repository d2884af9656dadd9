// softmax / log_softmax over any axis of [outer, axis, inner]: accuracy against the long-double
// reference (own loops: a row is not an elementwise map), degenerate rows, layouts, gradients.
#include <array>
#include <cstdio>
#include <xact/functions/softmax.hpp>

#include "reference/softmax.hpp"
#include "support.hpp"

namespace {

using LD = long double;

// The measured bounds (strict ULP), written once; the tests print what they measure.
template <class T>
struct bounds;
template <>
struct bounds<float> {
  // per element, subnormal outputs included: t = e^(x - m) rounds (up to ~1.2 ulp of t, 2.4 of
  // y where their significands are near 1 and 2), then y = t / s rounds (measured 2 with an fma,
  // 3 on SSE2 where t k0 + t k1 rounds twice; 4 when y was t * RN(1/s): fuzzing)
  static constexpr double softmax = 3;
  // strict, no floor needed (log1p of s - 1, s - 1 summed exactly: DominantEntryLongRows)
  static constexpr double log_softmax = 1;
  // the row max's own y = -log1p(s - 1) where one other term dominates s - 1, or all others are
  // equal: that exp rounding (up to ~1.2 ulp) is not averaged away (fuzzing: 2 ulp, row of 2;
  // DominantEntryLongRows on AVX-512: 2 ulp, 169 equal terms)
  static constexpr double log_softmax_max = 2;
  static constexpr double log_floor = 0;  // absolute floor near y = 0: none
  static constexpr double grad = 3;       // in ulps of the scale (see grad_error)
};
template <>
struct bounds<double> {
  static constexpr double softmax = 3;
  static constexpr double log_softmax = 1;
  static constexpr double log_softmax_max = 2;
  static constexpr double log_floor = 0;
  static constexpr double grad = 3;
};

template <class T>
constexpr std::size_t W = xsimd::batch<T>::size;

template <class T>
T inf() {
  return std::numeric_limits<T>::infinity();
}

// Strict ULP of got against the reference rounded to T (subnormals count).
template <class T>
double ulp_err(T got, LD want) {
  return xt::ulp_distance(got, static_cast<T>(want));
}

// Error of a gradient element in ulps of its scale: the subtraction in dy - sum (or
// dy - p * sum) cannot be more accurate than eps * (|dy| + |the other term|) times the factor.
template <class T>
double grad_error(T got, LD want, LD scale) {
  if (std::isnan(got) || std::isnan(want)) return std::isnan(got) == std::isnan(want) ? 0 : 1e30;
  const LD mag = std::max(std::fabs(want), scale);
  if (mag == 0) return got == 0 ? 0 : 1e30;
  int ex;
  std::frexp(mag, &ex);
  // Down to the subnormal spacing, as the strict ULP distance does.
  const LD ulp = std::max(std::ldexp(LD(1), ex - std::numeric_limits<T>::digits),
                          LD(std::numeric_limits<T>::denorm_min()));
  return static_cast<double>(std::fabs(LD(got) - want) / ulp);
}

// Random rows: several lengths and scales, including spreads that reach subnormal outputs.
template <class T>
std::vector<T> random_row(std::mt19937_64& rng, std::size_t n, int kind) {
  std::vector<T> x(n);
  const T spread = sizeof(T) == 4 ? T(110) : T(760);
  std::uniform_real_distribution<T> u1(T(-1), T(1)), u10(T(-10), T(10)), u100(T(-100), T(100)),
      big(-spread, T(0)), off(T(1000), T(1010));
  for (std::size_t i = 0; i < n; ++i) {
    switch (kind) {
      case 0:
        x[i] = u1(rng);
        break;
      case 1:
        x[i] = u10(rng);
        break;
      case 2:
        x[i] = u100(rng);
        break;
      case 3:
        x[i] = big(rng);
        break;  // outputs down into the subnormals and to 0
      default:
        x[i] = off(rng);
        break;  // large offset: x - max rounds
    }
  }
  if (kind == 3 && n > 1) x[n / 2] = T(0);  // the max: the others spread below it
  return x;
}

template <class T>
std::vector<std::size_t> lengths() {
  return {1, 2, W<T> - 1, W<T>, W<T> + 1, 2 * W<T> + 3, 100, 1000 + 7, 4099};
}

// Copies row r (length n) of logical [outer, n, inner] rows into position (o, j).
template <class T>
void scatter(std::vector<T>& a, const std::vector<T>& row, std::size_t o, std::size_t j,
             std::size_t n, std::size_t inner) {
  for (std::size_t k = 0; k < n; ++k) a[(o * n + k) * inner + j] = row[k];
}
template <class T>
std::vector<T> gather(const std::vector<T>& a, std::size_t o, std::size_t j, std::size_t n,
                      std::size_t inner) {
  std::vector<T> r(n);
  for (std::size_t k = 0; k < n; ++k) r[k] = a[(o * n + k) * inner + j];
  return r;
}

template <class T>
class Softmax : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Softmax, Types);

// Accuracy of both forwards and both backwards, every layout, against the reference.
TYPED_TEST(Softmax, AccuracyAllLayouts) {
  using T = TypeParam;
  std::mt19937_64 rng(7);
  double e_sm = 0, e_lsm = 0, e_gsm = 0, e_glsm = 0;
  std::uniform_real_distribution<T> ud(T(-2), T(2));
  // 7W + 3 columns: one group of 4 W, one of 2 W, one of W, then a partial group.
  for (std::size_t inner : {std::size_t(1), std::size_t(3), W<T>, std::size_t(17), 7 * W<T> + 3}) {
    for (std::size_t n : lengths<T>()) {
      if (inner > 1 && n > 1100) continue;
      if (inner > 17 && n > 200) continue;
      const std::size_t outer = 2;
      for (int kind = 0; kind < 5; ++kind) {
        const std::size_t total = outer * n * inner;
        std::vector<T> x(total), y(total), ly(total), dy(total), dx(total), ldx(total);
        for (auto& v : dy) v = ud(rng);
        for (std::size_t o = 0; o < outer; ++o)
          for (std::size_t j = 0; j < inner; ++j)
            scatter(x, random_row<T>(rng, n, kind), o, j, n, inner);
        xact::softmax_forward(x.data(), y.data(), outer, n, inner);
        xact::log_softmax_forward(x.data(), ly.data(), outer, n, inner);
        xact::softmax_backward(y.data(), dy.data(), dx.data(), outer, n, inner);
        xact::log_softmax_backward(ly.data(), dy.data(), ldx.data(), outer, n, inner);
        for (std::size_t o = 0; o < outer; ++o) {
          for (std::size_t j = 0; j < inner; ++j) {
            const auto xr = gather(x, o, j, n, inner), yr = gather(y, o, j, n, inner),
                       lr = gather(ly, o, j, n, inner), gr = gather(dy, o, j, n, inner),
                       dr = gather(dx, o, j, n, inner), ldr = gather(ldx, o, j, n, inner);
            const auto ry = ref::softmax_row(xr.data(), n);
            const auto rl = ref::log_softmax_row(xr.data(), n);
            const auto rg = ref::softmax_grad_row(yr.data(), gr.data(), n);
            const auto rlg = ref::log_softmax_grad_row(lr.data(), gr.data(), n);
            LD dot = 0, sdy = 0;
            std::size_t kmax = 0;  // the row max's own y has the wider bound (see bounds)
            for (std::size_t k = 0; k < n; ++k) {
              dot += LD(gr[k]) * LD(yr[k]);
              sdy += gr[k];
              if (xr[k] > xr[kmax]) kmax = k;
            }
            for (std::size_t k = 0; k < n; ++k) {
              const double a = ulp_err(yr[k], ry[k]);
              ASSERT_LE(a, bounds<T>::softmax) << "softmax n=" << n << " inner=" << inner
                                               << " kind=" << kind << " k=" << k << " x=" << xr[k];
              e_sm = std::max(e_sm, a);
              double b = ulp_err(lr[k], rl[k]);
              if (std::fabs(rl[k]) <= bounds<T>::log_floor &&
                  std::fabs(LD(lr[k]) - rl[k]) <= bounds<T>::log_floor)
                b = 0;
              ASSERT_LE(b, k == kmax ? bounds<T>::log_softmax_max : bounds<T>::log_softmax)
                  << "log_softmax n=" << n << " inner=" << inner << " kind=" << kind << " k=" << k
                  << " got " << lr[k] << " want " << rl[k];
              e_lsm = std::max(e_lsm, b);
              const double c = grad_error(
                  dr[k], rg[k], std::fabs(LD(yr[k])) * (std::fabs(LD(gr[k])) + std::fabs(dot)));
              ASSERT_LE(c, bounds<T>::grad)
                  << "softmax grad n=" << n << " inner=" << inner << " k=" << k;
              e_gsm = std::max(e_gsm, c);
              const double d = grad_error(
                  ldr[k], rlg[k], std::fabs(LD(gr[k])) + std::exp(LD(lr[k])) * std::fabs(sdy));
              ASSERT_LE(d, bounds<T>::grad)
                  << "log_softmax grad n=" << n << " inner=" << inner << " k=" << k;
              e_glsm = std::max(e_glsm, d);
            }
          }
        }
      }
    }
  }
  std::printf(
      "[ measured ] %s: softmax %.2f ulp, log_softmax %.2f ulp (floor %g), "
      "softmax grad %.2f, log_softmax grad %.2f (ulps of scale)\n",
      sizeof(T) == 4 ? "float" : "double", e_sm, e_lsm, bounds<T>::log_floor, e_gsm, e_glsm);
}

// One entry dominates a long row: 0 among entries whose terms are each below half an ulp of 1
// (float: x in [-19, -17.4], e^x < 2^-25; double: [-40, -37.5], e^x < 2^-54). Every term but the
// max's then lands whole in the compensation part of the sum, and log_softmax of the max,
// y = -log1p(rest) ~ -rest, carries the relative error of that part. Before it was summed with
// its own compensation (exact_sum) this measured 4/7/9/29 ulp for float rows of 170/314/1000/4099
// with inner > 1 (fuzzing had found 3 and 5), double 4/5/12/27. Also rows of one value
// repeated (each term's rounding error then does not average out).
// Kind 2: the others' terms below T's normal range (float: x in [-104, -88]). Each term then
// rounds to the subnormal spacing, an absolute error, so y of the max (the sum's excess, tiny
// itself) gets an absolute floor: up to (n - 1) spacings (measured below 0.25 per term beyond
// n = 16; 3 ulp in float at n = 17, 11 in double at n = 170; it matters only where
// |y| < ~n * T's smallest normal).
TYPED_TEST(Softmax, DominantEntryLongRows) {
  using T = TypeParam;
  std::mt19937_64 rng(13);
  const bool fl = sizeof(T) == 4;
  std::uniform_real_distribution<T> u(fl ? T(-19) : T(-40), fl ? T(-17.4) : T(-37.5));
  std::uniform_real_distribution<T> usub(fl ? T(-104) : T(-745), fl ? T(-88) : T(-709));
  const LD tiny = std::numeric_limits<T>::denorm_min();
  double e_lsm = 0, e_sm = 0, e_sub = 0, e_floor = 0;
  for (std::size_t n : {std::size_t(170), std::size_t(314), std::size_t(1000), std::size_t(4099)}) {
    for (std::size_t inner : {std::size_t(1), std::size_t(3), 6 * W<T> + 1}) {
      for (int kind = 0; kind < 3; ++kind) {
        std::vector<T> x(n * inner), y(n * inner), ly(n * inner);
        std::vector<std::vector<T>> rows(inner);
        for (std::size_t j = 0; j < inner; ++j) {
          auto& r = rows[j];
          r.resize(n);
          const T same = u(rng);
          for (auto& v : r) v = kind == 0 ? u(rng) : kind == 1 ? same : usub(rng);
          r[(j * 37 + n / 3) % n] = T(0);
          scatter(x, r, 0, j, n, inner);
        }
        xact::softmax_forward(x.data(), y.data(), 1, n, inner);
        xact::log_softmax_forward(x.data(), ly.data(), 1, n, inner);
        for (std::size_t j = 0; j < inner; ++j) {
          const auto& xr = rows[j];
          const auto yr = gather(y, 0, j, n, inner), lr = gather(ly, 0, j, n, inner);
          const auto ry = ref::softmax_row(xr.data(), n);
          const auto rl = ref::log_softmax_row(xr.data(), n);
          for (std::size_t k = 0; k < n; ++k) {
            double b = ulp_err(lr[k], rl[k]);
            if (kind == 2) {
              e_sub = std::max(e_sub, b);
              const LD abs_err = std::fabs(LD(lr[k]) - rl[k]);
              e_floor = std::max(e_floor, double(abs_err / tiny / LD(n - 1)));
              if (abs_err <= LD(n - 1) * tiny) b = 0;
            }
            // The row max's own y = -log1p(s - 1): with every other term the same (kind 1),
            // their common exp rounding is not averaged away (log_softmax_max; 2 ulp seen with
            // float rows of 170 on AVX-512).
            const bool own = k == (j * 37 + n / 3) % n;
            ASSERT_LE(b, own ? bounds<T>::log_softmax_max : bounds<T>::log_softmax)
                << "log_softmax n=" << n << " inner=" << inner << " kind=" << kind << " k=" << k
                << " x=" << xr[k] << " got " << lr[k] << " want " << rl[k];
            e_lsm = std::max(e_lsm, b);
            const double a = ulp_err(yr[k], ry[k]);
            ASSERT_LE(a, bounds<T>::softmax)
                << "softmax n=" << n << " inner=" << inner << " k=" << k;
            e_sm = std::max(e_sm, a);
          }
        }
      }
    }
  }
  std::printf(
      "[ measured ] %s dominant entry: log_softmax %.2f ulp, softmax %.2f ulp; subnormal terms: "
      "log_softmax %.2f ulp, %.3f spacings per term\n",
      sizeof(T) == 4 ? "float" : "double", e_lsm, e_sm, e_sub, e_floor);
}

// Rows of 2 and 3 entries: the max's y = -log1p(s - 1) with s - 1 one or two terms, whose own
// rounding then shows in y (fuzzing found 2 ulp at y = -0x1.a30ee6p-10 in a float row of 2).
TYPED_TEST(Softmax, ShortRowsMaxEntry) {
  using T = TypeParam;
  std::mt19937_64 rng(9);
  const bool fl = sizeof(T) == 4;
  std::uniform_real_distribution<T> u(T(-20), T(-1)), w(fl ? T(-87) : T(-700), T(-20));
  double e_max = 0, e_other = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::size_t n = 2 + (i & 1);
    T row[3] = {T(0), (i & 2) ? u(rng) : w(rng), u(rng)}, y[3];
    xact::log_softmax_forward(row, y, 1, n);
    const auto r = ref::log_softmax_row(row, n);
    const double a = ulp_err(y[0], r[0]);
    ASSERT_LE(a, bounds<T>::log_softmax_max) << "x1=" << row[1] << " x2=" << row[2] << " n=" << n;
    e_max = std::max(e_max, a);
    for (std::size_t k = 1; k < n; ++k) {
      const double b = ulp_err(y[k], r[k]);
      ASSERT_LE(b, bounds<T>::log_softmax) << "k=" << k << " x=" << row[k];
      e_other = std::max(e_other, b);
    }
  }
  // The fuzzed row (and its neighbours: x[0] up by a few ulps gives 2 ulp too on AVX2).
  if constexpr (sizeof(T) == 4) {
    for (T v = T(0x1.5aefdp-4); v < T(0x1.5af034p-4); v = std::nextafter(v, T(1))) {
      T row[2] = {v, T(0x1.a17152p+2)}, y[2];
      xact::log_softmax_forward(row, y, 1, 2);
      const auto r = ref::log_softmax_row(row, 2);
      const double a = ulp_err(y[1], r[1]);
      ASSERT_LE(a, bounds<T>::log_softmax_max) << "x0=" << v;
      e_max = std::max(e_max, a);
    }
  }
  std::printf("[ measured ] %s rows of 2-3: log_softmax of the max %.2f ulp, others %.2f ulp\n",
              fl ? "float" : "double", e_max, e_other);
}

// softmax where t = e^(x - m) carries its largest error: rows of mixed magnitudes as the fuzz
// target draws them (fuzzing found 4 ulp at y = 0x1.fea706p-45 in a float row of 418, inner > 1,
// when y was t * RN(1/s)). Now y = t k0 + t k1 with k0 + k1 = 1/s to twice the precision: t's
// error (up to ~1.2 ulp of t measured, i.e. 2.4 ulp of y where y's significand is near 2 and t's
// near 1) and one rounding stay below 3 ulp; without an fma (SSE2) t k0 rounds once more.
TYPED_TEST(Softmax, MixedMagnitudeRows) {
  using T = TypeParam;
  std::mt19937_64 rng(17);
  double e_sm = 0, e_lsm = 0;
  const std::size_t inner = 9;
  for (int rep = 0; rep < 60; ++rep) {
    const std::size_t n = 1 + rng() % 600;
    const int lo = rep % 2 ? -4 : -8, hi = rep % 2 ? 10 : 4;
    std::vector<T> row(n), x(n * inner), y(n * inner), ly(n * inner);
    for (auto& v : row) {
      const int e = lo + int(rng() % unsigned(hi - lo));
      v = std::ldexp(T(1) + T(rng() & 0xffffff) * T(0x1p-24), e) * ((rng() & 1) ? T(-1) : T(1));
    }
    for (std::size_t j = 0; j < inner; ++j) scatter(x, row, 0, j, n, inner);
    xact::softmax_forward(x.data(), y.data(), 1, n, inner);
    xact::log_softmax_forward(x.data(), ly.data(), 1, n, inner);
    const auto ry = ref::softmax_row(row.data(), n);
    const auto rl = ref::log_softmax_row(row.data(), n);
    for (std::size_t j = 0; j < inner; j += 4) {
      for (std::size_t k = 0; k < n; ++k) {
        const double a = ulp_err(y[k * inner + j], ry[k]);
        ASSERT_LE(a, bounds<T>::softmax) << "softmax n=" << n << " k=" << k << " x=" << row[k];
        e_sm = std::max(e_sm, a);
        const double b = ulp_err(ly[k * inner + j], rl[k]);
        ASSERT_LE(b, bounds<T>::log_softmax) << "log_softmax n=" << n << " k=" << k;
        e_lsm = std::max(e_lsm, b);
      }
    }
  }
  std::printf("[ measured ] %s mixed magnitudes: softmax %.2f ulp, log_softmax %.2f ulp\n",
              sizeof(T) == 4 ? "float" : "double", e_sm, e_lsm);
}

// x + 1e4 gives bit for bit the result of x (both exact: multiples of 2^-10 below 2^14).
TYPED_TEST(Softmax, ShiftInvariant) {
  using T = TypeParam;
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> u(-8192, 8192);
  for (std::size_t inner : {std::size_t(1), std::size_t(17)}) {
    const std::size_t n = 1001, total = n * inner;
    std::vector<T> x(total), xs(total), a(total), b(total);
    for (std::size_t i = 0; i < total; ++i) {
      x[i] = std::ldexp(T(u(rng)), -10);
      xs[i] = x[i] + T(1e4);
      ASSERT_EQ(xs[i] - T(1e4), x[i]);
    }
    xact::softmax_forward(x.data(), a.data(), 1, n, inner);
    xact::softmax_forward(xs.data(), b.data(), 1, n, inner);
    for (std::size_t i = 0; i < total; ++i) ASSERT_TRUE(xt::same_bits(a[i], b[i])) << i;
    xact::log_softmax_forward(x.data(), a.data(), 1, n, inner);
    xact::log_softmax_forward(xs.data(), b.data(), 1, n, inner);
    for (std::size_t i = 0; i < total; ++i) ASSERT_TRUE(xt::same_bits(a[i], b[i])) << i;
  }
}

// A finite row spanning more than the type's range (found by fuzzing: the rounding correction of
// x - max overflowed and made the row NaN): the largest entries share the mass, the others get
// exactly 0 (log-softmax: x - max, finite).
TYPED_TEST(Softmax, RowSpanningTheRange) {
  using T = TypeParam;
  const T big = std::numeric_limits<T>::max();
  for (std::size_t inner : {std::size_t(1), std::size_t(9)}) {
    const std::vector<T> row = {T(0.9) * big, big, -big, big / 2, big};
    std::vector<T> x(row.size() * inner), y(x.size()), ly(x.size());
    for (std::size_t i = 0; i < row.size(); ++i)
      for (std::size_t j = 0; j < inner; ++j) x[i * inner + j] = row[i];
    xact::softmax_forward(x.data(), y.data(), 1, row.size(), inner);
    xact::log_softmax_forward(x.data(), ly.data(), 1, row.size(), inner);
    for (std::size_t j = 0; j < inner; ++j) {
      EXPECT_EQ(y[0 * inner + j], T(0));
      EXPECT_EQ(y[1 * inner + j], T(0.5));
      EXPECT_EQ(y[2 * inner + j], T(0));
      EXPECT_EQ(y[3 * inner + j], T(0));
      EXPECT_EQ(y[4 * inner + j], T(0.5));
      for (std::size_t i = 0; i < row.size(); ++i)
        EXPECT_TRUE(std::isfinite(ly[i * inner + j]) || row[i] == -big) << i;
      EXPECT_LE(xt::ulp_distance(ly[1 * inner + j], -std::log(T(2))), 1.0);
    }
  }
}

// Documented results for degenerate rows, along the last axis and across inner.
template <class T>
void run_all(const std::vector<T>& x, std::size_t inner, std::vector<T>& y, std::vector<T>& ly,
             std::vector<T>& dx, std::vector<T>& ldx, const std::vector<T>& dy) {
  const std::size_t n = x.size() / inner;
  y.assign(x.size(), T(-7));
  ly = y;
  dx = y;
  ldx = y;
  xact::softmax_forward(x.data(), y.data(), 1, n, inner);
  xact::log_softmax_forward(x.data(), ly.data(), 1, n, inner);
  xact::softmax_backward(y.data(), dy.data(), dx.data(), 1, n, inner);
  xact::log_softmax_backward(ly.data(), dy.data(), ldx.data(), 1, n, inner);
}

TYPED_TEST(Softmax, DegenerateRows) {
  XT_SKIP_IF_FAST_MATH();
  using T = TypeParam;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (std::size_t inner : {std::size_t(1), std::size_t(3), W<T>}) {
    for (std::size_t n : {std::size_t(1), std::size_t(5), W<T> + 3}) {
      auto make = [&](auto f) {
        std::vector<T> x(n * inner);
        for (std::size_t k = 0; k < n; ++k)
          for (std::size_t j = 0; j < inner; ++j) x[k * inner + j] = f(k);
        return x;
      };
      const std::vector<T> dy = make([](std::size_t k) { return T(0.5) + T(k % 3); });
      std::vector<T> y, ly, dx, ldx;
      // Some -inf (not all): exactly 0, log -inf, finite gradients (0, and dy for log).
      if (n > 1) {
        const auto x = make([](std::size_t k) { return k % 2 ? -inf<T>() : T(k); });
        run_all(x, inner, y, ly, dx, ldx, dy);
        for (std::size_t i = 0; i < x.size(); ++i) {
          if (x[i] == -inf<T>()) {
            EXPECT_EQ(y[i], T(0));
            EXPECT_FALSE(std::signbit(y[i]));
            EXPECT_EQ(ly[i], -inf<T>());
            EXPECT_EQ(dx[i], T(0));
            EXPECT_EQ(ldx[i], dy[i]);
          } else {
            EXPECT_GT(y[i], T(0));
            EXPECT_TRUE(std::isfinite(ly[i]));
          }
          EXPECT_TRUE(std::isfinite(dx[i]) && std::isfinite(ldx[i]));
        }
      }
      // All -inf: softmax 0, log_softmax -inf, gradients 0.
      {
        const auto x = make([](std::size_t) { return -inf<T>(); });
        run_all(x, inner, y, ly, dx, ldx, dy);
        for (std::size_t i = 0; i < x.size(); ++i) {
          EXPECT_EQ(y[i], T(0));
          EXPECT_EQ(ly[i], -inf<T>());
          EXPECT_EQ(dx[i], T(0));
          EXPECT_EQ(ldx[i], T(0));
        }
      }
      // +inf or NaN anywhere: the whole row NaN.
      for (T bad : {inf<T>(), nan}) {
        for (std::size_t at : {std::size_t(0), n - 1}) {
          const auto x = make([&](std::size_t k) { return k == at ? bad : T(k); });
          run_all(x, inner, y, ly, dx, ldx, dy);
          for (std::size_t i = 0; i < x.size(); ++i) {
            EXPECT_TRUE(std::isnan(y[i])) << bad << " n=" << n << " inner=" << inner;
            EXPECT_TRUE(std::isnan(ly[i]));
            EXPECT_TRUE(std::isnan(dx[i]));
            EXPECT_TRUE(std::isnan(ldx[i]));
          }
        }
      }
      // Length 1: softmax 1, log_softmax 0, gradients 0, for any finite x.
      if (n == 1) {
        for (T v :
             {T(0), T(-3.5), std::numeric_limits<T>::max(), std::numeric_limits<T>::lowest()}) {
          const auto x = make([&](std::size_t) { return v; });
          run_all(x, inner, y, ly, dx, ldx, dy);
          for (std::size_t i = 0; i < x.size(); ++i) {
            EXPECT_EQ(y[i], T(1));
            EXPECT_EQ(ly[i], T(0));
            EXPECT_EQ(dx[i], T(0));
            EXPECT_EQ(ldx[i], T(0));
          }
        }
      }
    }
  }
  // Huge finite values never overflow: the max is subtracted first.
  {
    const T big = std::numeric_limits<T>::max();
    std::vector<T> x = {big, big, std::numeric_limits<T>::lowest(), big / 2}, y(4), ly(4);
    xact::softmax_forward(x.data(), y.data(), 1, 4);
    xact::log_softmax_forward(x.data(), ly.data(), 1, 4);
    EXPECT_EQ(y[0], T(0.5));
    EXPECT_EQ(y[1], T(0.5));
    EXPECT_EQ(y[2], T(0));
    EXPECT_EQ(y[3], T(0));
    EXPECT_EQ(ly[0], -std::log(T(2)));
    EXPECT_EQ(ly[2], -inf<T>());  // lowest - max overflows: the true value is below -FLT_MAX
  }
  // Length 0, outer 0, inner 0: nothing to do, nothing written, null pointers accepted.
  T guard = T(-7);
  xact::softmax_forward(&guard, &guard, 3, 0, 5);
  xact::log_softmax_forward(&guard, &guard, 0, 7, 1);
  xact::softmax_backward(&guard, &guard, &guard, 3, 7, 0);
  const T* null_x = nullptr;
  T* null_y = nullptr;
  xact::softmax_forward(null_x, null_y, 4, 0, 1);
  EXPECT_EQ(guard, T(-7));
}

// A row's result depends only on the row (last axis): alone vs within a batch, any offset,
// in place, all bit-identical. Across inner, a column's result does not depend on inner or on
// its position among the columns.
TYPED_TEST(Softmax, LayoutIndependence) {
  using T = TypeParam;
  std::mt19937_64 rng(11);
  for (std::size_t n : lengths<T>()) {
    const std::size_t outer = 5;
    std::vector<T> x(outer * n + W<T>), dy(outer * n + W<T>);
    for (std::size_t o = 0; o < outer; ++o) {
      const auto r = random_row<T>(rng, n, int(o % 5));
      std::copy(r.begin(), r.end(), x.begin() + o * n);
      const auto g = random_row<T>(rng, n, 1);
      std::copy(g.begin(), g.end(), dy.begin() + o * n);
    }
    for (int fn = 0; fn < 4; ++fn) {
      auto run = [&](const T* a, const T* g, T* out, std::size_t rows) {
        switch (fn) {
          case 0:
            xact::softmax_forward(a, out, rows, n);
            break;
          case 1:
            xact::log_softmax_forward(a, out, rows, n);
            break;
          case 2:
            xact::softmax_backward(a, g, out, rows, n);
            break;
          default:
            xact::log_softmax_backward(a, g, out, rows, n);
            break;
        }
      };
      std::vector<T> batch(outer * n);
      run(x.data(), dy.data(), batch.data(), outer);
      for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t off : {std::size_t(0), std::size_t(1), W<T> / 2 + 1}) {
          std::vector<T> xa(n + off + 2), ga(n + off + 2), out(n + off + 2, T(-7));
          std::copy(x.begin() + o * n, x.begin() + (o + 1) * n, xa.begin() + off);
          std::copy(dy.begin() + o * n, dy.begin() + (o + 1) * n, ga.begin() + off);
          run(xa.data() + off, ga.data() + off, out.data() + off, 1);
          for (std::size_t k = 0; k < n; ++k)
            ASSERT_TRUE(xt::same_bits(out[off + k], batch[o * n + k]))
                << "fn=" << fn << " n=" << n << " row=" << o << " off=" << off << " k=" << k;
          EXPECT_TRUE(xt::same_bits(out[off + n], T(-7))) << "wrote past the row";
          if (off > 0) {
            EXPECT_TRUE(xt::same_bits(out[off - 1], T(-7))) << "wrote before the row";
          }
          // In place over the first input (y over x; dx over y), and dx over dy.
          run(xa.data() + off, ga.data() + off, xa.data() + off, 1);
          for (std::size_t k = 0; k < n; ++k)
            ASSERT_TRUE(xt::same_bits(xa[off + k], batch[o * n + k])) << "in place fn=" << fn;
          if (fn >= 2) {
            std::copy(x.begin() + o * n, x.begin() + (o + 1) * n, xa.begin() + off);
            run(xa.data() + off, ga.data() + off, ga.data() + off, 1);
            for (std::size_t k = 0; k < n; ++k)
              ASSERT_TRUE(xt::same_bits(ga[off + k], batch[o * n + k])) << "dx over dy fn=" << fn;
          }
        }
      }
    }
    // Across inner: column 0 of inner 3 / W / 17 / 2W+1 layouts, and the last column, agree.
    if (n > 1100) continue;
    std::vector<T> ref_col;
    for (std::size_t inner : {std::size_t(3), W<T>, std::size_t(17), 2 * W<T> + 1}) {
      for (std::size_t j : {std::size_t(0), inner - 1}) {
        std::vector<T> a(n * inner, T(0.25)), out(n * inner), back(n * inner), g(n * inner, T(0));
        scatter(a, std::vector<T>(x.begin(), x.begin() + n), 0, j, n, inner);
        scatter(g, std::vector<T>(dy.begin(), dy.begin() + n), 0, j, n, inner);
        xact::softmax_forward(a.data(), out.data(), 1, n, inner);
        xact::softmax_backward(out.data(), g.data(), back.data(), 1, n, inner);
        auto col = gather(out, 0, j, n, inner);
        const auto bcol = gather(back, 0, j, n, inner);
        col.insert(col.end(), bcol.begin(), bcol.end());
        if (ref_col.empty()) ref_col = col;
        for (std::size_t k = 0; k < col.size(); ++k)
          ASSERT_TRUE(xt::same_bits(col[k], ref_col[k]))
              << "inner=" << inner << " col=" << j << " k=" << k << " n=" << n << " got " << col[k]
              << " ref " << ref_col[k];
      }
    }
  }
}

// Backward against central differences of the long-double reference forward: the gradient
// of L(x) = sum dy_i y_i(x) with respect to x_j.
TYPED_TEST(Softmax, BackwardMatchesCentralDifferences) {
  using T = TypeParam;
  std::mt19937_64 rng(5);
  for (std::size_t n : {std::size_t(1), std::size_t(3), W<T> + 1, std::size_t(40)}) {
    for (int kind = 0; kind < 3; ++kind) {
      const auto x = random_row<T>(rng, n, kind);
      const auto dy = random_row<T>(rng, n, 0);
      std::vector<T> y(n), ly(n), dx(n), ldx(n);
      xact::softmax_forward(x.data(), y.data(), 1, n);
      xact::log_softmax_forward(x.data(), ly.data(), 1, n);
      xact::softmax_backward(y.data(), dy.data(), dx.data(), 1, n);
      xact::log_softmax_backward(ly.data(), dy.data(), ldx.data(), 1, n);
      for (std::size_t j = 0; j < n; ++j) {
        auto loss = [&](bool log, LD xj) {
          std::vector<LD> xl(x.begin(), x.end());
          xl[j] = xj;
          LD m = xl[0], s = 0, l = 0;
          for (LD v : xl) m = std::max(m, v);
          for (LD v : xl) s += std::exp(v - m);
          for (std::size_t i = 0; i < n; ++i)
            l += LD(dy[i]) * (log ? (xl[i] - m) - std::log(s) : std::exp(xl[i] - m) / s);
          return l;
        };
        const LD g = xt::central_difference([&](LD v) { return loss(false, v); }, LD(x[j]));
        const LD lg = xt::central_difference([&](LD v) { return loss(true, v); }, LD(x[j]));
        const LD tol = 1e-5L * (1 + std::fabs(g)) + (sizeof(T) == 4 ? 1e-6L : 1e-9L);
        EXPECT_NEAR(LD(dx[j]), g, tol) << "softmax n=" << n << " j=" << j;
        EXPECT_NEAR(LD(ldx[j]), lg, 1e-5L * (1 + std::fabs(lg)) + (sizeof(T) == 4 ? 1e-5L : 1e-9L))
            << "log_softmax n=" << n << " j=" << j;
      }
    }
  }
}

TYPED_TEST(Softmax, RangeOverloadsCheckSizes) {
  using T = TypeParam;
  std::vector<T> x = {1, 2, 3, 4, 5, 6}, y(6), d(6), bad(5);
  const xact::row_shape sh{2, 3, 1};
  xact::softmax_forward(x, y, sh);
  std::vector<T> p(6);
  xact::softmax_forward(x.data(), p.data(), 2, 3);
  EXPECT_EQ(y, p);
  EXPECT_THROW(xact::softmax_forward(x, bad, sh), std::invalid_argument);
  EXPECT_THROW(xact::softmax_forward(bad, y, sh), std::invalid_argument);
  EXPECT_THROW(xact::log_softmax_forward(x, y, xact::row_shape{2, 2, 2}), std::invalid_argument);
  EXPECT_THROW(xact::softmax_backward(y, x, bad, sh), std::invalid_argument);
  EXPECT_THROW(xact::log_softmax_backward(y, bad, d, sh), std::invalid_argument);
  xact::log_softmax_forward(x, y, xact::row_shape{3, 2, 1});
  xact::log_softmax_backward(y, x, d, xact::row_shape{3, 2, 1});
  // One row: the whole range.
  std::array<T, 4> a = {0, 0, 0, 0}, b{};
  xact::softmax_forward(a, b);
  for (T v : b) EXPECT_EQ(v, T(0.25));
  xact::log_softmax_forward(a, b);
  for (T v : b) EXPECT_EQ(v, -std::log(T(4)));
  // Partial overlap is refused; exact in place is fine.
  EXPECT_THROW(xact::softmax_forward(x.data() + 1, x.data(), 1, 5), std::invalid_argument);
  const T* null_x = nullptr;
  EXPECT_THROW(xact::softmax_forward(null_x, y.data(), 1, 3), std::invalid_argument);
}

}  // namespace
