#!/usr/bin/env bash
# Command 1 of the README: set up, build, and run the main job on the embedded default — the
# sample corpus (data/sample) prepared into HDF5 shards with BERT's uncased vocabulary, then
# verified. Output: runs/quickstart/shards (replaced on each run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/launch/setup.sh"
source "$root/launch/env.sh"
bash "$root/launch/build.sh" >/dev/null
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
out=$root/runs/quickstart/shards
"$electra" prepare --input "$root/data/sample" --out "$out" --seq-len 128 --shards 4 \
  --val-fraction 0.02 --overwrite
"$electra" verify --data "$out"
