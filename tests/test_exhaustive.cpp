// The long accuracy run (ctest label `exhaustive`, scripts/exhaustive.sh): every one of the 2^32
// floats through every registered float case, and 2^26 sampled doubles per double case.
// XACT_EXHAUSTIVE_FILTER=name restricts it to the functions whose name contains `name`.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
#include <xact/xact.hpp>

#include "support.hpp"

namespace {

bool selected(const std::string& fn) {
  const char* f = std::getenv("XACT_EXHAUSTIVE_FILTER");
  return f == nullptr || *f == 0 || fn.find(f) != std::string::npos;
}

TEST(Exhaustive, AllFloats) {
  for (const auto& c : xt::registry<float>()) {
    if (!selected(c.function)) continue;
    const auto w = xt::scan_floats(c, 1);
    std::printf("[exhaustive] %-12s %-16s float  max %5.2f ulp over %llu (bound %g) %s\n",
                c.function.c_str(), c.direction.c_str(), w.ulp, (unsigned long long)w.checked,
                c.bound, w.describe().c_str());
    std::fflush(stdout);
    EXPECT_LE(w.ulp, c.bound) << c.function << " " << c.direction << ": " << w.describe();
  }
}

TEST(Exhaustive, ManyDoubles) {
  for (const auto& c : xt::registry<double>()) {
    if (!selected(c.function)) continue;
    const auto w = xt::scan_doubles(c, 1 << 26);
    std::printf("[exhaustive] %-12s %-16s double max %5.2f ulp over %llu (bound %g) %s\n",
                c.function.c_str(), c.direction.c_str(), w.ulp, (unsigned long long)w.checked,
                c.bound, w.describe().c_str());
    std::fflush(stdout);
    EXPECT_LE(w.ulp, c.bound) << c.function << " " << c.direction << ": " << w.describe();
  }
}

// Every SIMD width with an fma gives the same bits (issue 6: the CPUs agree). An AVX-512 build's
// lanes against AVX2+FMA lanes compiled into the same binary (xsimd 8.1 has no usable
// SSE4.2+FMA target there), forward and backward from x (dy = 1 and 85196.8, a loss-scaled
// gradient), over all 2^32 floats and 2^26 sampled doubles; a NaN result must meet a NaN (its
// sign is not specified: swish's backward and softplus at beta 0.3 differ there). Builds
// without an fma round differently (SSE2: within the same bounds, AllFloats above).
#if defined(__x86_64__) && defined(__AVX512F__) && defined(__FMA__) && defined(__AVX2__)
template <class T>
bool same_or_nans(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0 || (a != a && b != b);
}

// Mismatches of op's lanes between the default arch and arch A over inputs [lo, hi).
template <class T, class A, class Op>
long width_diffs(const Op& op, std::uint64_t lo, std::uint64_t hi, std::uint64_t seed) {
  constexpr std::size_t C = std::size_t(1) << 16;
  std::vector<T> x(C), dy(C), a(C), b(C);
  std::mt19937_64 rng(seed);
  long diffs = 0;
  for (std::uint64_t base = lo; base < hi; base += C) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(C, hi - base));
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (sizeof(T) == 4) {
        const auto u = static_cast<std::uint32_t>(base + i);
        std::memcpy(&x[i], &u, 4);
      } else {  // random bit patterns, and every other one a moderate value
        const std::uint64_t u = rng();
        std::memcpy(&x[i], &u, 8);
        if (i % 2) x[i] = std::ldexp(T(u % 1000003) / T(1000003) - T(0.5), int(u >> 58) - 24);
      }
    }
    xact::forward(op, x.data(), a.data(), n);
    xact::forward<A>(op, x.data(), b.data(), n);
    for (std::size_t i = 0; i < n; ++i) diffs += !same_or_nans(a[i], b[i]);
    for (T g : {T(1), T(85196.8)}) {
      std::fill(dy.begin(), dy.begin() + n, g);
      xact::backward_from_x(op, x.data(), dy.data(), a.data(), n);
      xact::backward_from_x<A>(op, x.data(), dy.data(), b.data(), n);
      for (std::size_t i = 0; i < n; ++i) diffs += !same_or_nans(a[i], b[i]);
    }
  }
  return diffs;
}

template <class T, class Op>
void widths_agree(const char* name, const Op& op) {
  if (!selected(name)) return;
  using A = xsimd::fma3<xsimd::avx2>;
  const std::uint64_t total = sizeof(T) == 4 ? (std::uint64_t(1) << 32) : (std::uint64_t(1) << 26);
  const unsigned nt = std::max(1u, std::thread::hardware_concurrency());
  std::vector<long> d(nt, 0);
  std::vector<std::thread> th;
  for (unsigned t = 0; t < nt; ++t)
    th.emplace_back([&, t] {
      d[t] = width_diffs<T, A>(op, total / nt * t, t + 1 == nt ? total : total / nt * (t + 1),
                               1000 + t);
    });
  for (auto& t : th) t.join();
  long sum = 0;
  for (long v : d) sum += v;
  std::printf("[widths] %-14s %-6s %2zu-lane vs %zu-lane: %ld differences\n", name,
              sizeof(T) == 4 ? "float" : "double", xsimd::batch<T>::size, xsimd::batch<T, A>::size,
              sum);
  std::fflush(stdout);
  EXPECT_EQ(sum, 0) << name;
}

template <class T>
void all_widths() {
  widths_agree<T>("sigmoid", xact::sigmoid{});
  widths_agree<T>("tanh", xact::tanh{});
  widths_agree<T>("x_min_exp", xact::x_min_exp{});
  widths_agree<T>("softplus", xact::softplus{});
  widths_agree<T>("softplus_b0.3", xact::softplus(0.3, 20));
  widths_agree<T>("softplus_exact", xact::softplus::exact(1));
  widths_agree<T>("swish", xact::swish{1.0});
  widths_agree<T>("swish(b=1.7)", xact::swish{1.7});
  widths_agree<T>("swish(b=-0.3)", xact::swish{-0.3});
  widths_agree<T>("dice(fixed)", xact::dice_fixed{-1, 3, 0.1, 1.5, -0.25, true});
  widths_agree<T>("leaky_relu", xact::leaky_relu{});
  widths_agree<T>("relu", xact::relu{});
}

TEST(Exhaustive, SimdWidthsAgree) {
  all_widths<float>();
  all_widths<double>();
}
#endif

}  // namespace
