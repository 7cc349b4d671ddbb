#!/usr/bin/env bash
# Configures (once) and builds electra into build/ (or $ELECTRA_BUILD_DIR) with Ninja and ccache.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ELECTRA_BUILD_DIR:-$root/build}
if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=${ELECTRA_BUILD_TYPE:-RelWithDebInfo} >/dev/null
fi
cmake --build "$build" -j "$(nproc)"
