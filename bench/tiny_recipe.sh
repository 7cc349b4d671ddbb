#!/usr/bin/env bash
# Measurement (not a test): one candidate recipe for the README's main job, run as
# launch/quickstart.sh runs it (2 MPI ranks x 1 thread on the sample corpus), timed. The
# settings are configs/tiny.ini's with the given pretrain options on top (the command line wins);
# SEQ_LEN (default 128) picks shards of that length, prepared from data/sample as the quickstart
# does. Prints one JSON object: the options, the wall seconds of `pretrain` (start-up, training
# and its evaluations), steps/s, and the first, best and last evaluation.
# usage: bench/tiny_recipe.sh NAME [SEQ_LEN] [-- PRETRAIN OPTIONS...]
#   e.g. bench/tiny_recipe.sh lr3e-4 128 -- --learning-rate 3e-4 --warmup-steps 400
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
name=${1:?usage: bench/tiny_recipe.sh NAME [SEQ_LEN] [-- PRETRAIN OPTIONS...]}
shift
seq_len=128
[[ $# -gt 0 && $1 != -- ]] && { seq_len=$1; shift; }
[[ $# -gt 0 && $1 == -- ]] && shift
out=$root/runs/recipe
shards=$out/shards-$seq_len
mkdir -p "$out"
if [[ ! -f $shards/manifest.json ]]; then
  "$electra" prepare --input "$root/data/sample" --out "$shards" --seq-len "$seq_len" --shards 4 \
    --val-fraction 0.02 >/dev/null
fi
run=$out/$name
rm -rf "$run"
start=$(date +%s.%N)
bash "$root/launch/mpirun.sh" --ranks-per-node 2 --threads 1 --electra "$electra" -- \
  pretrain --config "$root/configs/tiny.ini" --data "$shards" --out "$run" "$@" >"$out/$name.log" 2>&1
seconds=$(echo "$(date +%s.%N) - $start" | bc)
/usr/bin/python3 - "$run" "$seconds" "$seq_len" "$*" <<'PY'
import json, os, platform, sys
run, seconds, seq_len, options = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
records = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]
evals = [r for r in records if r["kind"] == "eval"]
train = [r for r in records if r["kind"] == "train"]
keys = ("step", "mlm_loss", "mlm_accuracy", "disc_loss", "disc_auc")
pick = lambda r: {k: round(r[k], 4) for k in keys}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           platform.machine())
print(json.dumps({
    "options": options, "seq_len": seq_len, "pretrain_seconds": round(seconds, 1),
    "steps": train[-1]["step"], "steps_per_s": round(train[-1]["step"] / seconds, 3),
    "tokens_per_s_last": round(train[-1]["tokens_per_s"]),
    "first_eval": pick(evals[0]), "last_eval": pick(evals[-1]),
    "best_mlm_loss_eval": pick(min(evals, key=lambda r: r["mlm_loss"])),
    "validation_examples": evals[-1]["examples"],
    "machine": {"cpu": cpu, "cores": os.cpu_count()},
}))
PY
