#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds (warnings are errors) and runs
# every test but the long ones (labels exhaustive, fuzz, sanitize, flags: their own commands).
#   bash scripts/test.sh            (build dir: build/test)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Release -DXACT_WERROR=ON -DXACT_BUILD_BENCHMARKS=OFF
cmake --build build/test -j"$jobs"
cd build/test
ctest -LE "exhaustive|fuzz|sanitize|flags" -j"$jobs" --output-on-failure --timeout 900
