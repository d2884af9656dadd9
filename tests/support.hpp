// Test support shared by every test file: strict ULP distance, the accuracy case registry and
// its scanners, and the driver conformance checks (lengths, offsets, in place, tail = body,
// scalar = array).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include <xact/xact.hpp>

namespace xt {

// The reference precision of each tested type: double for float (29 extra bits), long double
// (x87, 64-bit significand) for double (11 extra bits).
template <class T>
using wide_t = std::conditional_t<std::is_same<T, float>::value, double, long double>;

template <class T>
using bits_t = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

template <class T>
inline bits_t<T> bits(T v) {
  bits_t<T> b;
  std::memcpy(&b, &v, sizeof v);
  return b;
}
template <class T>
inline T from_bits(bits_t<T> b) {
  T v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// -ffast-math builds (label `flags`): the compiler may assume no NaN/inf, so std::isnan folds to
// false. The harness classifies by bits instead; tests of NaN/inf behaviour call
// XT_SKIP_IF_FAST_MATH() (the guarantee does not hold there, see simd.hpp); the accuracy scans
// and conformance inputs keep to finite values.
#if defined(__FAST_MATH__)
#define XT_FAST_MATH 1
#define XT_SKIP_IF_FAST_MATH() \
  GTEST_SKIP() << "NaN/inf behaviour is not guaranteed under -ffast-math (see simd.hpp)"
#else
#define XT_FAST_MATH 0
#define XT_SKIP_IF_FAST_MATH() (void)0
#endif

// NaN / inf by bits: right under -ffinite-math-only too.
template <class T>
inline bool nan_bits(T v) {
  const auto b = bits(v) & ~(bits_t<T>(1) << (sizeof(T) * 8 - 1));
  return b > bits(std::numeric_limits<T>::infinity());
}
template <class T>
inline bool inf_bits(T v) {
  const auto b = bits(v) & ~(bits_t<T>(1) << (sizeof(T) * 8 - 1));
  return b == bits(std::numeric_limits<T>::infinity());
}

// Strict ULP distance between a result and the correctly rounded reference: the number of
// representable values between them (subnormals included, +0 and -0 the same point). A NaN on
// one side only, or an infinity against a finite value, is infinitely far.
template <class T>
inline double ulp_distance(T got, T want) {
  if (nan_bits(got) || nan_bits(want)) return (nan_bits(got) && nan_bits(want)) ? 0.0 : INFINITY;
  if (inf_bits(got) || inf_bits(want)) return bits(got) == bits(want) ? 0.0 : INFINITY;
  using S = std::conditional_t<sizeof(T) == 4, std::int64_t, long double>;
  auto ordered = [](T v) -> S {
    const bits_t<T> b = bits(v);
    const bits_t<T> mag = b & ~(bits_t<T>(1) << (sizeof(T) * 8 - 1));
    return (b >> (sizeof(T) * 8 - 1)) ? -static_cast<S>(mag) : static_cast<S>(mag);
  };
  const S d = ordered(got) - ordered(want);
  return static_cast<double>(d < 0 ? -d : d);
}

// ---------------------------------------------------------------------------------------------
// Accuracy cases. A test file registers one case per function, direction and type; the accuracy
// test (test_accuracy.cpp), the exhaustive walk and the README table (xact_accuracy_table) all
// read the same registry, so a bound is written in exactly one place.
template <class T>
struct Case {
  std::string function;   // "sigmoid"
  std::string direction;  // "forward", "backward_from_x", "backward_from_y", ...
  double bound;           // max strict ULP allowed
  // out[i] = f(in[i]) (forward) or dy[i] * f'(in[i]) (backward); dy is always given.
  std::function<void(const T* in, const T* dy, T* out, std::size_t n)> run;
  std::function<wide_t<T>(wide_t<T> in, wide_t<T> dy)> ref;
  // Where |ref| <= abs_floor, an absolute error up to abs_floor also passes (near a zero of a
  // derivative the relative error is meaningless). 0: none.
  double abs_floor = 0;
  // Inputs outside [lo, hi] are skipped (a formula only defined on a domain, like y in [0,1]).
  double lo = -INFINITY, hi = INFINITY;
  bool backward() const { return direction != "forward"; }
};

template <class T>
inline std::vector<Case<T>>& registry() {
  static std::vector<Case<T>> cases;
  return cases;
}

template <class T>
struct Register {
  explicit Register(Case<T> c) { registry<T>().push_back(std::move(c)); }
};

// dy values used by the backward scans: exact, inexact, negative, small, and large: a
// loss-scaled gradient (2^16 times 1.3) and -1e30, which bring a derivative from far below the
// normal range back into it (dy f'(x) must not be formed from an f' already rounded into the
// subnormals or to 0).
template <class T>
inline T dy_pattern(std::size_t i) {
  static const T v[6] = {T(1), T(-0.75), T(1.3), T(3.0517578125e-5), T(85196.8), T(-1e30)};
  return v[i % 6];
}

template <class T>
struct Worst {
  double ulp = 0;
  T x = 0, dy = 0, got = 0;
  wide_t<T> ref = 0;
  std::uint64_t checked = 0;
  void merge(const Worst& o) {
    checked += o.checked;
    if (o.ulp > ulp) {
      const auto c = checked;
      *this = o;
      checked = c;
    }
  }
  std::string describe() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%.2f ulp at x=%a (%.9g), dy=%a: got %a, want %a (%.17Lg)", ulp,
                  (double)x, (double)x, (double)dy, (double)got, (double)(T)ref, (long double)ref);
    return buf;
  }
};

// Checks a batch of inputs against the reference; the error of each element goes into w.
template <class T>
inline void check_block(const Case<T>& c, const T* x, std::size_t n, std::size_t dy_offset,
                        Worst<T>& w) {
  std::vector<T> dy(n), out(n);
  for (std::size_t i = 0; i < n; ++i) dy[i] = c.backward() ? dy_pattern<T>(dy_offset + i) : T(1);
  c.run(x, dy.data(), out.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    // Out of the case's domain: skipped. NaN is in every domain (it must come out NaN).
    if (!nan_bits(x[i]) && !(x[i] >= c.lo && x[i] <= c.hi)) continue;
    if (XT_FAST_MATH && (nan_bits(x[i]) || inf_bits(x[i]))) continue;
    const wide_t<T> r = c.ref(x[i], dy[i]);
    if (XT_FAST_MATH && (nan_bits(static_cast<T>(r)) || inf_bits(static_cast<T>(r)))) continue;
    const T want = static_cast<T>(r);
    double e = ulp_distance(out[i], want);
    if (e > 0 && c.abs_floor > 0 && std::fabs((long double)r) <= c.abs_floor &&
        std::fabs((long double)out[i] - (long double)r) <= c.abs_floor)
      e = 0;
    ++w.checked;
    if (e > w.ulp) {
      w.ulp = e;
      w.x = x[i];
      w.dy = dy[i];
      w.got = out[i];
      w.ref = r;
    }
  }
}

// Every float whose bit pattern is start + k * stride (stride 1: all 2^32), split over threads.
inline Worst<float> scan_floats(const Case<float>& c, std::uint64_t stride, unsigned threads = 0) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const std::uint64_t total = (std::uint64_t(1) << 32) / stride;
  std::vector<Worst<float>> part(threads);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      constexpr std::size_t block = 4096;
      std::vector<float> x(block);
      const std::uint64_t begin = total * t / threads, end = total * (t + 1) / threads;
      for (std::uint64_t k = begin; k < end; k += block) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(block, end - k));
        for (std::size_t i = 0; i < n; ++i)
          x[i] = from_bits<float>(static_cast<std::uint32_t>((k + i) * stride + stride / 2));
        check_block(c, x.data(), n, static_cast<std::size_t>(k), part[t]);
      }
    });
  }
  for (auto& th : pool) th.join();
  Worst<float> w;
  for (auto& p : part) w.merge(p);
  return w;
}

// Deterministic double inputs: a strided walk of all bit patterns (every binade), values
// uniform in [-40, 40] and [-800, 800], and magnitudes log-spaced from 1e-30 to 1e3.
inline std::vector<double> double_inputs(std::size_t n) {
  std::vector<double> v;
  v.reserve(n);
  const std::uint64_t stride = ~std::uint64_t(0) / (n / 4);
  for (std::size_t i = 0; i < n / 4; ++i) v.push_back(from_bits<double>(i * stride + 12345));
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> a(-40, 40), b(-800, 800), l(-30, 3);
  for (std::size_t i = 0; i < n / 4; ++i) v.push_back(a(rng));
  for (std::size_t i = 0; i < n / 4; ++i) v.push_back(b(rng));
  for (std::size_t i = 0; v.size() < n; ++i)
    v.push_back((i & 1 ? -1.0 : 1.0) * std::pow(10.0, l(rng)));
  return v;
}

inline Worst<double> scan_doubles(const Case<double>& c, std::size_t n) {
  const std::vector<double> x = double_inputs(n);
  Worst<double> w;
  constexpr std::size_t block = 4096;
  for (std::size_t k = 0; k < x.size(); k += block)
    check_block(c, x.data() + k, std::min(block, x.size() - k), k, w);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Driver conformance: every length class, offset starts, in place, tail bit-identical to body,
// scalar call bit-identical to the array call.

template <class T>
inline bool same_bits(T a, T b) {
  // -ffast-math (-fno-signed-zeros): the sign of a zero result is unspecified, +0 = -0.
  return (nan_bits(a) && nan_bits(b)) || bits(a) == bits(b) ||
         (XT_FAST_MATH && (bits(a) << 1) == 0 && (bits(b) << 1) == 0);
}

// Scalar call = array lane, tail = body: bit for bit; under -ffast-math within
// XT_FAST_MATH_LANE_ULP (each inlined copy of a kernel is reassociated on its own, so the scalar
// call, the SIMD body and the tail's copy may round differently; measured 1 ulp, GCC 12 -O3).
#define XT_FAST_MATH_LANE_ULP 2
// An accuracy case's bound: the normal one, or the one measured under -ffast-math.
#define XT_FAST_MATH_BOUND(normal, fast) (XT_FAST_MATH ? (fast) : (normal))
template <class T>
inline bool same_lane(T a, T b) {
  return same_bits(a, b) || (XT_FAST_MATH && ulp_distance(a, b) <= XT_FAST_MATH_LANE_ULP);
}

template <class T>
inline std::vector<T> conformance_inputs(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<T> u(T(-30), T(30));
  const T special[] = {T(0),
                       T(-0.0),
                       T(1),
                       T(-1),
                       std::numeric_limits<T>::infinity(),
                       -std::numeric_limits<T>::infinity(),
                       std::numeric_limits<T>::quiet_NaN(),
                       std::numeric_limits<T>::max(),
                       std::numeric_limits<T>::lowest(),
                       std::numeric_limits<T>::denorm_min(),
                       -std::numeric_limits<T>::min()};
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = (i % 7 == 3) ? special[(i / 7) % 11] : u(rng);
  if (XT_FAST_MATH)  // finite inputs only: NaN/inf results are unspecified under -ffast-math
    for (auto& e : v)
      if (nan_bits(e) || inf_bits(e)) e = T(2.5);
  return v;
}

// f(a, b, out, n) computes out from (a, b) through a driver; s(a_i, b_i) is the scalar call.
template <class T, class F, class S>
inline void check_driver(const char* what, F f, S s) {
  constexpr std::size_t W = xsimd::batch<T>::size;
  const std::size_t lengths[] = {0, 1, W - 1, W, W + 1, 2 * W + 3, 1000 + 7, 4 * W + W / 2};
  const std::vector<T> a = conformance_inputs<T>(1100 + 2 * W, 1);
  const std::vector<T> b = conformance_inputs<T>(1100 + 2 * W, 2);
  // Reference: the scalar call, element by element.
  std::vector<T> want(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) want[i] = s(a[i], b[i]);
  for (std::size_t n : lengths) {
    if (n == 0 && W == 1) continue;
    for (std::size_t off : {std::size_t(0), std::size_t(1), W / 2 + 1}) {
      if (off + n > a.size()) continue;
      // out of place, with guard elements on both sides
      std::vector<T> out(n + 2, T(-7));
      f(a.data() + off, b.data() + off, out.data() + 1, n);
      EXPECT_TRUE(same_bits(out[0], T(-7)) && same_bits(out[n + 1], T(-7)))
          << what << ": wrote outside [0, n) for n=" << n;
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_TRUE(same_lane(out[i + 1], want[off + i]))
            << what << ": n=" << n << " off=" << off << " i=" << i << " x=" << a[off + i] << " got "
            << out[i + 1] << " scalar " << want[off + i];
      // in place over the first input
      std::vector<T> inplace(a.begin() + off, a.begin() + off + n);
      f(inplace.data(), b.data() + off, inplace.data(), n);
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_TRUE(same_lane(inplace[i], want[off + i]))
            << what << " in place: n=" << n << " off=" << off << " i=" << i;
    }
  }
}

// A lane's result must not depend on its neighbours: kernels may take a faster path when every
// lane of a batch is in a range (math::exp does), and that path must agree bit for bit with the
// general one. Each value x goes through the batch twice: with every lane x, and with the other
// lanes NaN, +-inf or far out of range (forcing the general path).
template <class T, class F>
inline void check_lanes(const char* what, F f) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  if (W == 1) return;
  std::mt19937_64 rng(7);
  const T span = sizeof(T) == 4 ? T(120) : T(800);
  std::uniform_real_distribution<T> u(-span, span), small(T(-3), T(3));
  const T others[] = {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                      -std::numeric_limits<T>::infinity(), -span * 10, span * 10};
  for (int i = 0; i < 4000; ++i) {
    const T x = i % 2 ? u(rng) : small(rng);
    const T dy = small(rng);
    T alone[W], mixed[W], xs[W], dys[W];
    for (std::size_t j = 0; j < W; ++j) xs[j] = x, dys[j] = dy;
    f(B::load_unaligned(xs), B::load_unaligned(dys)).store_unaligned(alone);
    for (const T o : others) {
      if (XT_FAST_MATH && (nan_bits(o) || inf_bits(o))) continue;
      for (std::size_t j = 1; j < W; ++j) xs[j] = o;
      f(B::load_unaligned(xs), B::load_unaligned(dys)).store_unaligned(mixed);
      ASSERT_TRUE(same_lane(alone[0], mixed[0]))
          << what << ": x=" << x << " alone " << alone[0] << " beside " << o << " " << mixed[0];
    }
  }
}

// Runs check_driver on every direction Op supports.
template <class T, class Op>
inline void check_conformance(const Op& op) {
  using B = xsimd::batch<T>;
  if constexpr (xact::detail::has_forward<Op, B>::value) {
    check_driver<T>(
        "forward", [&](const T* x, const T*, T* y, std::size_t n) { xact::forward(op, x, y, n); },
        [&](T x, T) { return op.forward(x); });
    check_lanes<T>("forward lanes", [&](const B& x, const B&) { return op.forward(x); });
  }
  if constexpr (xact::detail::has_backward_from_x<Op, B>::value) {
    check_driver<T>(
        "backward_from_x",
        [&](const T* x, const T* dy, T* dx, std::size_t n) {
          xact::backward_from_x(op, x, dy, dx, n);
        },
        [&](T x, T dy) { return op.backward_from_x(x, dy); });
    check_lanes<T>("backward_from_x lanes",
                   [&](const B& x, const B& dy) { return op.backward_from_x(x, dy); });
  }
  if constexpr (xact::detail::has_backward_from_y<Op, B>::value) {
    check_driver<T>(
        "backward_from_y",
        [&](const T* y, const T* dy, T* dx, std::size_t n) {
          xact::backward_from_y(op, y, dy, dx, n);
        },
        [&](T y, T dy) { return op.backward_from_y(y, dy); });
  }
}

// Central difference of a reference forward, in long double.
template <class R>
inline long double central_difference(R f, long double x) {
  const long double h = 1e-6L * std::max(1.0L, std::fabs(x));
  return (f(x + h) - f(x - h)) / (2 * h);
}

// Case helpers for the common shapes.
template <class T, class Op>
inline Case<T> forward_case(const std::string& fn, const Op& op, double bound,
                            std::function<wide_t<T>(wide_t<T>)> ref) {
  Case<T> c;
  c.function = fn;
  c.direction = "forward";
  c.bound = bound;
  c.run = [op](const T* x, const T*, T* y, std::size_t n) { xact::forward(op, x, y, n); };
  c.ref = [ref](wide_t<T> x, wide_t<T>) { return ref(x); };
  return c;
}

template <class T, class Op>
inline Case<T> backward_x_case(const std::string& fn, const Op& op, double bound,
                               std::function<wide_t<T>(wide_t<T>)> dref) {
  Case<T> c;
  c.function = fn;
  c.direction = "backward_from_x";
  c.bound = bound;
  c.run = [op](const T* x, const T* dy, T* dx, std::size_t n) {
    xact::backward_from_x(op, x, dy, dx, n);
  };
  c.ref = [dref](wide_t<T> x, wide_t<T> dy) { return dy * dref(x); };
  return c;
}

// dref here is the derivative as a function of y.
template <class T, class Op>
inline Case<T> backward_y_case(const std::string& fn, const Op& op, double bound,
                               std::function<wide_t<T>(wide_t<T>)> dref) {
  Case<T> c;
  c.function = fn;
  c.direction = "backward_from_y";
  c.bound = bound;
  c.run = [op](const T* y, const T* dy, T* dx, std::size_t n) {
    xact::backward_from_y(op, y, dy, dx, n);
  };
  c.ref = [dref](wide_t<T> y, wide_t<T> dy) { return dy * dref(y); };
  return c;
}

}  // namespace xt
