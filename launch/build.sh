#!/usr/bin/env bash
# Configures (once) and builds electra into build/ (or $ELECTRA_BUILD_DIR) with Ninja and ccache,
# against the torch wheel in the project's environment (.venv, or $ELECTRA_VENV; launch/setup.sh
# makes it). Arguments are targets (default: everything), e.g. `launch/build.sh electra`.
# Another torch: ELECTRA_TORCH_VERSION=2.15.0 bash launch/build.sh — its own environment
# (.venv-torch2.15.0) and build folder (build-torch2.15.0) unless ELECTRA_VENV/ELECTRA_BUILD_DIR say.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${ELECTRA_TORCH_VERSION:-} && ${ELECTRA_TORCH_VERSION} != 2.11.0 ]]; then
  export ELECTRA_VENV=${ELECTRA_VENV:-$root/.venv-torch$ELECTRA_TORCH_VERSION}
  export ELECTRA_BUILD_DIR=${ELECTRA_BUILD_DIR:-$root/build-torch$ELECTRA_TORCH_VERSION}
  bash "$root/launch/setup.sh"
fi
venv=${ELECTRA_VENV:-$root/.venv}
build=${ELECTRA_BUILD_DIR:-$root/build}
if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=${ELECTRA_BUILD_TYPE:-RelWithDebInfo} \
    -DELECTRA_PYTHON="$venv/bin/python" | grep -E '^-- electra:|Warning|Error' || true
  [[ -f $build/build.ninja || -f $build/Makefile ]] || { echo "build: configure failed"; exit 1; }
fi
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
