#!/usr/bin/env bash
# The libFuzzer targets (ctest label `fuzz`), built with clang-14
# (-fsanitize=fuzzer,address,undefined), each run for XACT_FUZZ_SECONDS (default 60).
# Sub-builds go under build/fuzz/robust/<name>. Extra arguments go to ctest (e.g. -R O0).
#   bash scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh fuzz
cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Release -DXACT_WERROR=ON -DXACT_BUILD_BENCHMARKS=OFF \
  -DXACT_BUILD_EXAMPLES=OFF ${XACT_FUZZ_SECONDS:+-DXACT_FUZZ_SECONDS=$XACT_FUZZ_SECONDS} >/dev/null
start=$(date +%s)
ctest --test-dir build/fuzz -L fuzz --output-on-failure -V "$@"
echo "fuzz.sh: $(( $(date +%s) - start )) s"
