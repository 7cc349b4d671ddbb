#!/usr/bin/env bash
# Command 1 of the README: set up, build, and run the main job on the embedded default —
# the sample corpus (data/sample) prepared into HDF5 shards with BERT's uncased vocabulary and
# verified; the tiny ELECTRA pair (configs/tiny.ini) pretrained on 2 MPI ranks with progress and
# evaluation; the discriminator and generator exported to HuggingFace format; the curves plotted.
# Outputs under runs/quickstart/: shards/ (replaced on each run), run/ (metrics.jsonl,
# tensorboard/, checkpoints/, curves.png; a finished run is kept and not trained again), hf/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/launch/setup.sh"
bash "$root/launch/build.sh" electra >/dev/null  # the job runs only electra (tests: launch/test.sh)
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
out=$root/runs/quickstart
ranks=${ELECTRA_QUICKSTART_RANKS:-2}
start=$(date +%s)

"$electra" prepare --input "$root/data/sample" --out "$out/shards" --seq-len 128 --shards 4 \
  --val-fraction 0.02 --overwrite
"$electra" verify --data "$out/shards"

bash "$root/launch/mpirun.sh" --ranks-per-node "$ranks" --threads 1 --electra "$electra" -- \
  pretrain --config "$root/configs/tiny.ini" --data "$out/shards" --out "$out/run"

"$electra" export --checkpoint "$out/run" --out "$out/hf" --overwrite
"$electra" plot "$out/run"
last_eval=$(grep '"kind":"eval"' "$out/run/metrics.jsonl" | tail -1)
echo
echo "quickstart done in $(($(date +%s) - start)) s ($ranks MPI ranks)"
echo "  final evaluation: $last_eval"
echo "  shards:       $out/shards"
echo "  run:          $out/run (metrics.jsonl; tensorboard --logdir $out/run/tensorboard)"
echo "  checkpoints:  $out/run/checkpoints"
echo "  HuggingFace:  $out/hf/discriminator, $out/hf/generator"
echo "  curves:       $out/run/curves.png"
