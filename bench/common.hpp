// Shared pieces of the benchmark suite: sizes, aligned buffers, the shared random inputs, the
// one-time output check and the timed loop with its counters.
//
// Naming (parsed by scripts/bench_table.py):  <dir>/<function>/<impl>/<n>
//   dir      fwd | bwd
//   impl     xact, xact_y (backward from y), naive, eigen, onednn, onednn_dst (oneDNN backward
//            from dst), xnnpack; the roof rows use function "roof" (impl memcpy / add).
//   n        the number of floats in one tensor.
// Counters: items_per_second (elements/s) and bytes_per_second (bytes read + written, as the
// kernel must touch them: forward n reads + n writes, backward 2n or 3n reads + n writes), and
// max_ulp (check(): the implementation's largest error on the checked points).
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace xb {

// L1 (1K, 16K), L2 (256K), DRAM (4M, 16M).
inline const std::vector<std::size_t>& sizes() {
  static const std::vector<std::size_t> s = {std::size_t(1) << 10, std::size_t(1) << 14,
                                             std::size_t(1) << 18, std::size_t(1) << 22,
                                             std::size_t(1) << 24};
  return s;
}

struct free_deleter {
  void operator()(float* p) const noexcept { std::free(p); }
};
using buffer = std::unique_ptr<float[], free_deleter>;

// 64-byte aligned, zero-filled (so its pages are mapped before any timing).
inline buffer alloc(std::size_t n) {
  const std::size_t bytes = ((n * sizeof(float) + 63) / 64) * 64 + 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return buffer(static_cast<float*>(p));
}

// The inputs every benchmark reads: generated once, at the largest size, from fixed seeds.
//   x  uniform in [-6, 6]: both signs, the curved part of every function.
//   dy uniform in [-1, 1].
//   a second x in (0, 1) for backward-from-y of functions whose y lies there.
inline const float* make_uniform(unsigned seed, float lo, float hi) {
  static std::vector<buffer> keep;
  const std::size_t n = sizes().back();
  buffer b = alloc(n);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (std::size_t i = 0; i < n; ++i) b[i] = d(gen);
  keep.push_back(std::move(b));
  return keep.back().get();
}
inline const float* input_x() {
  static const float* p = make_uniform(1, -6.0f, 6.0f);
  return p;
}
inline const float* input_dy() {
  static const float* p = make_uniform(2, -1.0f, 1.0f);
  return p;
}

// Compares got[i] against ref(i) (double) on at most ~64K evenly spaced indices plus the last
// 64: enough to catch a wrong kernel, cheap at 16M. Tolerance is loose on purpose (baselines use
// approximations); it only rejects garbage.
template <class Ref>
bool check(benchmark::State& st, const float* got, std::size_t n, Ref&& ref, double rtol = 1e-4,
           double atol = 1e-5) {
  const std::size_t step = n > 65536 ? n / 65536 : 1;
  auto bad = [&](std::size_t i) {
    const double r = ref(i);
    const double g = got[i];
    if (std::isnan(r) && std::isnan(g)) return false;
    return !(std::fabs(g - r) <= rtol * std::fabs(r) + atol);
  };
  auto fail = [&](std::size_t i) {
    st.SkipWithError(("wrong output at i=" + std::to_string(i) + ": got " + std::to_string(got[i]) +
                      ", want " + std::to_string(ref(i)))
                         .c_str());
    return false;
  };
  // The largest error in ulp over the same points (strict: the distance to the correctly rounded
  // reference in float steps, counted through the subnormals): the accuracy table of
  // scripts/bench_table.py. NaN against a number counts as 2^32.
  const auto key = [](float f) {
    std::int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? -static_cast<std::int64_t>(i & 0x7fffffff) : static_cast<std::int64_t>(i);
  };
  double worst = 0;
  const auto ulp = [&](std::size_t i) {
    const double r = ref(i);
    const float g = got[i];
    const double d = (std::isnan(r) || std::isnan(g))
                         ? (std::isnan(r) && std::isnan(g) ? 0.0 : 4294967296.0)
                         : std::fabs(double(key(g) - key(static_cast<float>(r))));
    worst = std::max(worst, d);
  };
  for (std::size_t i = 0; i < n; i += step) {
    if (bad(i)) return fail(i);
    ulp(i);
  }
  for (std::size_t i = n > 64 ? n - 64 : 0; i < n; ++i) {
    if (bad(i)) return fail(i);
    ulp(i);
  }
  st.counters["max_ulp"] = worst;
  return true;
}

// The timed loop. `run` is called once before (by the caller, for the check), then timed.
template <class Run>
void timed(benchmark::State& st, std::size_t elements, std::size_t bytes, Run&& run) {
  for (auto _ : st) {
    run();
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(elements));
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(bytes));
}

inline std::string bench_name(const char* dir, const std::string& fn, const char* impl,
                              std::size_t n) {
  return std::string(dir) + "/" + fn + "/" + impl + "/" + std::to_string(n);
}

// The roofs at n floats, registered once per n whichever suite asks first: forward memcpy
// (n reads + n writes); backward a vectorized x + dy (2n reads + n writes; no memcpy does that).
inline void register_roofs(std::size_t n) {
  static std::vector<std::size_t> done;
  for (std::size_t d : done)
    if (d == n) return;
  done.push_back(n);
  benchmark::RegisterBenchmark(
      bench_name("fwd", "roof", "memcpy", n).c_str(), [n](benchmark::State& st) {
        buffer out = alloc(n);
        const float* x = input_x();
        float* y = out.get();
        timed(st, n, 2 * n * sizeof(float), [&] { std::memcpy(y, x, n * sizeof(float)); });
      });
  benchmark::RegisterBenchmark(bench_name("bwd", "roof", "add", n).c_str(),
                               [n](benchmark::State& st) {
                                 buffer out = alloc(n);
                                 const float* x = input_x();
                                 const float* dy = input_dy();
                                 float* dx = out.get();
                                 timed(st, n, 3 * n * sizeof(float), [&] {
                                   for (std::size_t i = 0; i < n; ++i) dx[i] = x[i] + dy[i];
                                 });
                               });
}

// Register each suite (defined in its own translation unit).
void register_elementwise();
void register_softmax();
void register_channelwise();
void register_subnormal();

}  // namespace xb
