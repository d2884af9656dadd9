#!/usr/bin/env bash
# The long accuracy run: all 2^32 floats and 2^26 doubles through every function's accuracy
# cases (ctest label `exhaustive`). XACT_EXHAUSTIVE_FILTER=sigmoid restricts it to one function.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Release -DXACT_WERROR=ON -DXACT_BUILD_BENCHMARKS=OFF
cmake --build build/test -j"$jobs"
cd build/test
ctest -L exhaustive -R "^native" --output-on-failure -V
