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
source "$root/launch/env.sh"
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
run=$root/runs/quickstart/run
spam=$root/runs/spam
[ -x "$electra" ] || { echo "spam-compare.sh: $electra is missing: run launch/quickstart.sh" >&2; exit 1; }
# the run's latest complete checkpoint (a run directory would mean every one of them)
checkpoint=$(ls -d "$run"/checkpoints/step-*/COMPLETE 2>/dev/null | sort | tail -n 1 | xargs -r dirname)
[ -n "$checkpoint" ] ||
  { echo "spam-compare.sh: $run has no complete checkpoint: run launch/quickstart.sh first" >&2; exit 1; }

# sha256 of the decompressed files, as the data README pins them
declare -A sums=(
  [spam_train.tsv]=5ffb03c541b89ff4d6d00828b5f3dafee4c6f625eb0a9ec9cc2a93bebe8d9928
  [spam_dev.tsv]=1194fd75f2a18f28735472a0a4f7055cd031c182792a9c09588899211e8eb690
  [spam_test.tsv]=5fdbbb9b0cb87c1811c5d6dfc3388a52f07dde0e43dd6d679861e627f8ae48a6
)
mkdir -p "$spam"
for name in spam_train.tsv spam_dev.tsv spam_test.tsv; do
  if [ ! -f "$spam/$name" ] || [ "$(sha256sum < "$spam/$name" | cut -d' ' -f1)" != "${sums[$name]}" ]; then
    [ -f "$data/$name.xz" ] ||
      { echo "spam-compare.sh: $data/$name.xz is missing (give --data DIR)" >&2; exit 1; }
    xz -dc "$data/$name.xz" > "$spam/$name.tmp"
    got=$(sha256sum < "$spam/$name.tmp" | cut -d' ' -f1)
    if [ "$got" != "${sums[$name]}" ]; then
      rm -f "$spam/$name.tmp"
      echo "spam-compare.sh: $data/$name.xz: sha256 $got, expected ${sums[$name]}" >&2
      exit 1
    fi
    mv "$spam/$name.tmp" "$spam/$name"
  fi
done

start=$(date +%s)
bash "$root/launch/mpirun.sh" --ranks-per-node "$ranks" --threads 1 --electra "$electra" -- \
  sweep --checkpoints "$checkpoint" --random-baseline \
  --task "spam:$spam/spam_train.tsv:$spam/spam_dev.tsv:$spam/spam_test.tsv" \
  --lrs "$lrs" --seeds "$seeds" --epochs 3 --batch-size 32 --max-seq-len 128 --out "$spam/sweep"
echo "spam-compare done in $(($(date +%s) - start)) s"
cat "$spam/sweep/summary.md"
