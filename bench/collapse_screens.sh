#!/usr/bin/env bash
# The screens behind the README's "Why the discriminator collapses" (issue 27, item 2): short
# tiny runs at lr 5e-4 (warmup 200, the schedule of a 2,000-step run, stopped at step 400,
# evaluated every 100 steps on the corpus's held-out rows), each changing one thing, and the RTD
# AUC / disc loss / MLM accuracy they reach. One line per evaluation: NAME STEP mlm LOSS ACC disc
# LOSS auc AUC.
#   bash bench/collapse_screens.sh --data SHARDS [--out DIR] [--healthy CHECKPOINT] [NAME ...]
# NAMEs (default: all but those needing --healthy when it is not given):
#   base        2 ranks x 8, as configs/tiny.ini but lr 5e-4
#   unshared    the same with the generator's embeddings its own (share_embeddings=false)
#   small       the small preset (discriminator 256 x 12, generator 64 x 12)
#   batch128    1 rank x 16 x 8 accumulation: the official batch of 128 (to step 200)
#   continued   from --healthy (a model trained at 1.25e-4, not collapsed) at 5e-4, fresh Adam
#   moments     the same with its Adam moments carried (--init-optimizer: no early boost)
#   moments128  and at the official batch of 128 (2 ranks x 8 x 8 accumulation)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
electra=${ELECTRA_BINARY:-${ELECTRA_BUILD_DIR:-$root/build}/app/electra}
out=$root/runs/collapse-screens
data="" healthy="" names=()
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --healthy) healthy=$2; shift 2 ;;
    -*) echo "bench/collapse_screens.sh: unknown option '$1'" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
[[ -f $data/manifest.json ]] || { echo "bench/collapse_screens.sh: give --data SHARDS (electra prepare --out)" >&2; exit 2; }
if ((${#names[@]} == 0)); then
  names=(base unshared small batch128)
  [[ -n $healthy ]] && names+=(continued moments moments128)
fi
for name in "${names[@]}"; do  # every name checked before anything is removed
  case $name in
    base | unshared | small | batch128) ;;
    continued | moments | moments128)
      [[ -n $healthy ]] || { echo "bench/collapse_screens.sh: $name needs --healthy CHECKPOINT" >&2; exit 2; } ;;
    *) echo "bench/collapse_screens.sh: unknown screen '$name' (base, unshared, small, batch128, continued, moments, moments128)" >&2; exit 2 ;;
  esac
done
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
mkdir -p "$out"
common=(pretrain --config "$root/configs/tiny.ini" --data "$data" --threads 1 --eval-every 100
  --log-every 50 --learning-rate 5e-4 --seed 1 --train-steps 2000)
two_ranks=(mpirun --oversubscribe -np 2 -x OMP_NUM_THREADS=1 "$electra")
for name in "${names[@]}"; do
  run=$out/$name
  rm -rf "$run"
  case $name in
    base) cmd=("${two_ranks[@]}" "${common[@]}" --stop-at 400) ;;
    unshared) cmd=("${two_ranks[@]}" "${common[@]}" --stop-at 400 --set share_embeddings=false) ;;
    small) cmd=("${two_ranks[@]}" "${common[@]}" --stop-at 400 --model small) ;;
    batch128) cmd=(env OMP_NUM_THREADS=1 "$electra" "${common[@]}" --stop-at 200 --batch-size 16 --grad-accum 8) ;;
    continued | moments | moments128)
      cmd=("${two_ranks[@]}" "${common[@]}" --stop-at 400 --init-from "$healthy")
      [[ $name == moments* ]] && cmd+=(--init-optimizer)
      [[ $name == moments128 ]] && cmd+=(--grad-accum 8) ;;
  esac
  "${cmd[@]}" --out "$run" >"$run.log" 2>&1 || { echo "bench/collapse_screens.sh: $name failed; see $run.log" >&2; exit 1; }
  python3 - "$name" "$run/metrics.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[2]):
    d = json.loads(line)
    if d.get("kind") == "eval":
        print(sys.argv[1], d["step"], "mlm", round(d["mlm_loss"], 3), round(d["mlm_accuracy"], 3),
              "disc", round(d["disc_loss"], 3), "auc", round(d["disc_auc"], 3))
PY
done
