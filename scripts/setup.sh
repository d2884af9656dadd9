#!/usr/bin/env bash
# Installs the Debian packages xact's commands need, only when some are missing.
#   scripts/setup.sh test|bench|fuzz
# Uses apt-get directly as root, through sudo otherwise.
set -euo pipefail
kind=${1:-test}
pkgs=(cmake g++ make libeigen3-dev libxsimd-dev libgtest-dev)
case "$kind" in
  test) ;;
  # ocl-icd-opencl-dev: only recommended by libdnnl-dev, but its CMake config (DNNL_GPU_RUNTIME
  # OCL) fails without OpenCL headers and library.
  bench) pkgs+=(libbenchmark-dev libdnnl-dev ocl-icd-opencl-dev libxnnpack-dev python3) ;;
  fuzz) pkgs+=(clang-14 libclang-rt-14-dev llvm-14) ;;
  *) echo "usage: $0 test|bench|fuzz" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
