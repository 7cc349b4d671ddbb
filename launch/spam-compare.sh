#!/usr/bin/env bash
# Does pretraining help? The main job's model (runs/quickstart/run, from launch/quickstart.sh)
# and the same architecture from random weights, fine-tuned on SpamAssassin with the same budget
# (epochs, lrs, seeds) by one `electra sweep --random-baseline` over MPI ranks.
#   bash launch/spam-compare.sh [--lrs 3e-4,5e-4] [--seeds 1] [--ranks 2] [--data DIR]
# The spam split comes from DIR (default ../shared/data: spam_{train,dev,test}.tsv.xz), each file
# checked against its sha256 (../shared/data/SHA256SUMS) and decompressed into runs/spam/.
# Writes runs/spam/sweep/{results.csv,summary.md}; a rerun skips finished cells.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lrs=3e-4,5e-4 seeds=1 ranks=2 data=$root/../shared/data
while [ $# -gt 0 ]; do
  case $1 in
    --lrs) lrs=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "spam-compare.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
run=$root/runs/quickstart/run
spam=$root/runs/spam
[ -x "$electra" ] || { echo "spam-compare.sh: $electra is missing: run launch/quickstart.sh" >&2; exit 1; }
# the run's latest complete checkpoint (a run directory would mean every one of them)
checkpoint=$(ls -d "$run"/checkpoints/step-*/COMPLETE 2>/dev/null | sort | tail -n 1 | xargs -r dirname)
[ -n "$checkpoint" ] ||
  { echo "spam-compare.sh: $run has no complete checkpoint: run launch/quickstart.sh first" >&2; exit 1; }

bash "$root/launch/spam-data.sh" "$spam" "$data"

start=$(date +%s)
bash "$root/launch/mpirun.sh" --ranks-per-node "$ranks" --threads 1 --electra "$electra" -- \
  sweep --checkpoints "$checkpoint" --random-baseline \
  --task "spam:$spam/spam_train.tsv:$spam/spam_dev.tsv:$spam/spam_test.tsv" \
  --lrs "$lrs" --seeds "$seeds" --epochs 3 --batch-size 32 --max-seq-len 128 --out "$spam/sweep"
echo "spam-compare done in $(($(date +%s) - start)) s"
cat "$spam/sweep/summary.md"
