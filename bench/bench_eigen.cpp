// xact inside Eigen (xact/eigen.hpp), against xact's array drivers on the same memory:
//   <dir>/<function>/eigen_expr/<n>     y = x.unaryExpr(xact::eigen::expr(op)), dx =
//                                       x.binaryExpr(dy, xact::eigen::expr_backward_from_x(op)):
//                                       Eigen's assignment loop, Eigen packets as xsimd batches
//   <dir>/<function>/eigen_driver/<n>   xact::forward(op, Eigen::Map, Eigen::Map): the Eigen
//                                       overloads, one call of the pointer driver
// Compare with <dir>/<function>/xact/<n> from bench_elementwise.cpp. Registered at static
// initialization, so main.cpp needs no change.
#include <xact/eigen.hpp>
#include <xact/functions/relu.hpp>
#include <xact/functions/sigmoid.hpp>

#include "common.hpp"
#include "eigen_core.hpp"

namespace xb {
namespace {

using EA = Eigen::Map<const Eigen::ArrayXf>;
using EM = Eigen::Map<Eigen::ArrayXf>;
using Eigen::Index;

template <class Op, class Ref, class GradRef>
void add(const char* fn, Op op, Ref ref, GradRef grad) {
  for (std::size_t n : sizes()) {
    benchmark::RegisterBenchmark(
        bench_name("fwd", fn, "eigen_expr", n).c_str(), [=](benchmark::State& st) {
          buffer y = alloc(n);
          const float* x = input_x();
          auto run = [&] {
            EM(y.get(), Index(n)) = EA(x, Index(n)).unaryExpr(xact::eigen::expr(op));
          };
          run();
          if (!check(st, y.get(), n, [&](std::size_t i) { return ref(double(x[i])); })) return;
          timed(st, n, 2 * n * sizeof(float), run);
        });
    benchmark::RegisterBenchmark(
        bench_name("fwd", fn, "eigen_driver", n).c_str(), [=](benchmark::State& st) {
          buffer y = alloc(n);
          const float* x = input_x();
          auto run = [&] {
            EM ym(y.get(), Index(n));
            xact::forward(op, EA(x, Index(n)), ym);
          };
          run();
          if (!check(st, y.get(), n, [&](std::size_t i) { return ref(double(x[i])); })) return;
          timed(st, n, 2 * n * sizeof(float), run);
        });
    benchmark::RegisterBenchmark(
        bench_name("bwd", fn, "eigen_expr", n).c_str(), [=](benchmark::State& st) {
          buffer dx = alloc(n);
          const float *x = input_x(), *dy = input_dy();
          auto run = [&] {
            EM(dx.get(), Index(n)) =
                EA(x, Index(n)).binaryExpr(EA(dy, Index(n)), xact::eigen::expr_backward_from_x(op));
          };
          run();
          if (!check(st, dx.get(), n,
                     [&](std::size_t i) { return double(dy[i]) * grad(double(x[i])); }))
            return;
          timed(st, n, 3 * n * sizeof(float), run);
        });
  }
}

const bool registered = [] {
  add(
      "sigmoid", xact::sigmoid{}, [](double x) { return 1 / (1 + std::exp(-x)); },
      [](double x) {
        const double s = 1 / (1 + std::exp(-x));
        return s * (1 - s);
      });
  add(
      "relu", xact::relu{}, [](double x) { return x > 0 ? x : 0.0; },
      [](double x) { return x > 0 ? 1.0 : 0.0; });
  return true;
}();

}  // namespace
}  // namespace xb
