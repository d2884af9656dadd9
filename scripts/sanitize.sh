#!/usr/bin/env bash
# The suite under AddressSanitizer + UndefinedBehaviorSanitizer, no recovery (ctest label
# `sanitize`), native and SSE2 builds.
# Sub-builds go under build/sanitize/robust/<name>. Extra arguments go to ctest (e.g. -R O0).
#   bash scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Release -DXACT_WERROR=ON -DXACT_BUILD_BENCHMARKS=OFF \
  -DXACT_BUILD_EXAMPLES=OFF ${XACT_FUZZ_SECONDS:+-DXACT_FUZZ_SECONDS=$XACT_FUZZ_SECONDS} >/dev/null
start=$(date +%s)
ctest --test-dir build/sanitize -L sanitize --output-on-failure -V "$@"
echo "sanitize.sh: $(( $(date +%s) - start )) s"
