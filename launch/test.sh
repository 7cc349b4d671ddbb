#!/usr/bin/env bash
# Command 2 of the README: set up, build, and run every test (unit, mpi, e2e) with CTest.
# Extra arguments go to ctest, e.g. `launch/test.sh -L unit`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/launch/setup.sh"
bash "$root/launch/build.sh"
# Open MPI refuses to run as root unless told; CI runs as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "${ELECTRA_BUILD_DIR:-$root/build}" --output-on-failure -j 2 "$@"
