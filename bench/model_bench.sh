#!/usr/bin/env bash
# Benchmark (not a test): the joint ELECTRA step, forward + backward, tiny and small configs,
# with LibTorch's OpenMP runtime as it comes (nothing set). Prints JSON.
# usage: bench/model_bench.sh [BATCH_CPU (32)] [STEPS (3)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec "${ELECTRA_BUILD_DIR:-$root/build}/bench/model_step_bench" "$@"
