#!/usr/bin/env bash
# The flag matrix (ctest label `flags`): the suite rebuilt and run at -O0, -O3 -march=native,
# -ffast-math (native and SSE2), SSE2 -O2, AVX-512 (x86-64-v4: built; run only where the CPU has
# it), plus a compile-only AArch64 NEON check when aarch64-linux-gnu-g++ is installed. Each run
# ends with the exhaustive float walk of XACT_ROBUST_EXHAUSTIVE (default: sigmoid).
# Sub-builds go under build/robust/robust/<name>. Extra arguments go to ctest (e.g. -R O0).
#   bash scripts/robust.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
cmake -S . -B build/robust -DCMAKE_BUILD_TYPE=Release -DXACT_WERROR=ON -DXACT_BUILD_BENCHMARKS=OFF \
  -DXACT_BUILD_EXAMPLES=OFF ${XACT_FUZZ_SECONDS:+-DXACT_FUZZ_SECONDS=$XACT_FUZZ_SECONDS} >/dev/null
start=$(date +%s)
ctest --test-dir build/robust -L flags --output-on-failure -V "$@"
echo "robust.sh: $(( $(date +%s) - start )) s"
