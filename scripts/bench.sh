#!/usr/bin/env bash
# The main job: installs what is missing, builds the benchmarks (-O3 -march=native) and prints
# the comparison table (xact vs naive loop, Eigen, oneDNN, XNNPACK, memcpy roof).
#   bash scripts/bench.sh [google-benchmark flags, e.g. --benchmark_filter=sigmoid]
# Results: build/bench/results.json and build/bench/table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh bench
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DXACT_BUILD_TESTS=OFF \
  -DXACT_BUILD_EXAMPLES=OFF -DXACT_BUILD_BENCHMARKS=ON
cmake --build build/bench -j"$jobs" --target xact_bench
# Default: 3 repetitions of at least 0.1 s each (the table shows the median); any argument
# replaces these (e.g. --benchmark_repetitions=5 --benchmark_min_time=0.2).
if [ $# -eq 0 ]; then set -- --benchmark_repetitions=3 --benchmark_min_time=0.1; fi
./build/bench/bench/xact_bench --benchmark_out=build/bench/results.json \
  --benchmark_out_format=json "$@"
python3 scripts/bench_table.py build/bench/results.json | tee build/bench/table.md
