// xact_bench: every activation, forward and backward, against its baselines and the memcpy
// roof. Single-threaded throughout (oneDNN's OpenMP pool is held at one thread; XNNPACK runs
// without a threadpool), so the figures compare kernels, not thread counts.
//   xact_bench --benchmark_filter='fwd/sigmoid/' --benchmark_repetitions=5
//              --benchmark_min_time=0.2 --benchmark_out=b.json --benchmark_out_format=json
//   python3 scripts/bench_table.py b.json
#include <benchmark/benchmark.h>

#ifdef XB_HAVE_OPENMP
#include <omp.h>
#endif

#include "common.hpp"

int main(int argc, char** argv) {
#ifdef XB_HAVE_OPENMP
  omp_set_num_threads(1);
#endif
  benchmark::AddCustomContext("xact_baselines", XB_BASELINES);
  xb::register_elementwise();
  xb::register_softmax();
  xb::register_channelwise();
  xb::register_subnormal();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
