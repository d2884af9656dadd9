// Subnormals: does a kernel slow down when its inputs or its outputs are subnormal numbers?
// (Issue 6: no more than 2x.) At 16K floats, for every elementwise function, forward and
// backward from x, three inputs of the same size:
//   xact           x uniform in [-6, 6] (the main table's input): the reference time
//   xact_subin     x subnormal, both signs, log-spread over [2^-149, 2^-126)
//   xact_subout    x chosen so that the result is subnormal (for sigmoid e^x / (1 + e^x) with
//                  x in [-103, -88]; for relu/leaky_relu/tanh the subnormal inputs again, as
//                  their outputs are then subnormal too)
// scripts/bench_table.py prints these rows as their own table, as ratios to the xact row.
// The outputs are checked (finite, and subnormal or zero where they should be) before timing.
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common.hpp"
#include "xact/core/elementwise.hpp"
#include "xact/functions/leaky_relu.hpp"
#include "xact/functions/relu.hpp"
#include "xact/functions/sigmoid.hpp"
#include "xact/functions/softplus.hpp"
#include "xact/functions/swish.hpp"
#include "xact/functions/tanh.hpp"
#include "xact/functions/x_min_exp.hpp"

namespace xb {
namespace {

constexpr std::size_t kN = std::size_t(1) << 14;

// kN values from gen(rng), kept alive for the program's life.
template <class Gen>
const float* make_input(unsigned seed, Gen gen) {
  static std::vector<buffer> keep;
  buffer b = alloc(kN);
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < kN; ++i) b[i] = gen(rng);
  keep.push_back(std::move(b));
  return keep.back().get();
}

// Subnormal, both signs: 2^-149 .. 2^-126 log-spread (every subnormal exponent).
const float* subnormal_x() {
  static const float* p = make_input(11, [](std::mt19937& r) {
    std::uniform_real_distribution<float> e(-149.0f, -126.0f);
    const float v = std::ldexp(1.0f, static_cast<int>(std::floor(e(r))));
    return (r() & 1) ? v : -v;
  });
  return p;
}
// Uniform in [lo, hi].
const float* uniform_x(unsigned seed, float lo, float hi) {
  return make_input(
      seed, [lo, hi](std::mt19937& r) { return std::uniform_real_distribution<float>(lo, hi)(r); });
}

bool is_tiny(float v) { return std::fabs(v) < std::numeric_limits<float>::min(); }

template <class Op>
void add(const std::string& fn, Op op, const float* subout) {
  struct input {
    const char* impl;
    const float* x;
  };
  const input inputs[] = {
      {"xact", nullptr}, {"xact_subin", subnormal_x()}, {"xact_subout", subout}};
  for (const input& in : inputs) {
    const std::string impl = in.impl;
    const float* xs = in.x;
    benchmark::RegisterBenchmark(
        bench_name("fwd", fn + "_denormal", in.impl, kN).c_str(),
        [op, xs, impl](benchmark::State& st) {
          const float* x = xs ? xs : input_x();
          buffer out = alloc(kN);
          float* y = out.get();
          xact::forward(op, x, y, kN);
          // The subnormal-output input must give subnormal (or zero) outputs: else the row would
          // not measure what it says.
          if (impl == "xact_subout")
            for (std::size_t i = 0; i < kN; i += 97)
              if (!is_tiny(y[i])) {
                st.SkipWithError(("output not subnormal at i=" + std::to_string(i)).c_str());
                return;
              }
          timed(st, kN, 2 * kN * sizeof(float), [&] { xact::forward(op, x, y, kN); });
        });
    benchmark::RegisterBenchmark(
        bench_name("bwd", fn + "_denormal", in.impl, kN).c_str(), [op, xs](benchmark::State& st) {
          const float* x = xs ? xs : input_x();
          const float* dy = input_dy();
          buffer out = alloc(kN);
          float* dx = out.get();
          xact::backward_from_x(op, x, dy, dx, kN);
          for (std::size_t i = 0; i < kN; i += 97)
            if (!std::isfinite(dx[i])) {
              st.SkipWithError("non-finite gradient");
              return;
            }
          timed(st, kN, 3 * kN * sizeof(float), [&] { xact::backward_from_x(op, x, dy, dx, kN); });
        });
  }
}

}  // namespace

void register_subnormal() {
  // x in [-103, -88]: e^x in [2^-149, 2^-127), so sigmoid, softplus (~e^x) and the derivatives
  // are subnormal; swish and x_min_exp (x e^x) over [-100, -92].
  const float* exp_tail = uniform_x(12, -103.0f, -88.5f);
  const float* xexp_tail = uniform_x(13, -98.0f, -93.0f);
  add("sigmoid", xact::sigmoid{}, exp_tail);
  add("softplus", xact::softplus{}, exp_tail);
  add("swish", xact::swish{}, xexp_tail);
  add("x_min_exp", xact::x_min_exp{}, xexp_tail);
  add("tanh", xact::tanh{}, subnormal_x());
  add("relu", xact::relu{}, subnormal_x());
  add("leaky_relu", xact::leaky_relu{}, subnormal_x());
}

}  // namespace xb
