#!/usr/bin/env bash
# Measurement (not a test): one candidate recipe for the README's main job, run as
# launch/quickstart.sh runs it (2 MPI ranks x 1 thread on the sample corpus), timed. The
# settings are configs/tiny.ini's with the given pretrain options on top (the command line wins);
# SEQ_LEN (default 128) picks shards of that length, prepared from data/sample as the quickstart
# does. Prints one JSON object: the options, the wall seconds of `pretrain` (start-up, training
# and its evaluations), the seconds of training by the progress records (each record's steps x
# tokens per step / its tokens/s), steps/s, tokens/s, and the first, best and last evaluation.
# --report RUN prints the same for a finished 2-rank run (e.g. runs/quickstart/run), without the
# wall seconds.
# usage: bench/tiny_recipe.sh NAME [SEQ_LEN] [-- PRETRAIN OPTIONS...]
#        bench/tiny_recipe.sh --report RUN
#   e.g. bench/tiny_recipe.sh lr3e-4 128 -- --learning-rate 3e-4 --warmup-steps 400
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
ranks=2
usage="usage: bench/tiny_recipe.sh NAME [SEQ_LEN] [-- PRETRAIN OPTIONS...] | --report RUN"

report() {  # RUN WALL_SECONDS(or "") OPTIONS
  /usr/bin/python3 - "$1" "$2" "$3" "$ranks" <<'PY'
import json, os, platform, statistics, sys
run, wall, options, ranks = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
records = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]
evals = [r for r in records if r["kind"] == "eval"]
train = [r for r in records if r["kind"] == "train"]
config = json.load(open(os.path.join(run, "train_config.json")))
seq_len = json.load(open(os.path.join(config["data"], "manifest.json")))["max_seq_length"]
tokens_per_step = ranks * config["batch_size"] * config["grad_accum"] * seq_len
training, done = 0.0, 0
for r in train:
    training += (r["step"] - done) * tokens_per_step / r["tokens_per_s"]
    done = r["step"]
keys = ("step", "mlm_loss", "mlm_accuracy", "disc_loss", "disc_auc")
pick = lambda r: {k: round(r[k], 4) for k in keys}
rates = [r["tokens_per_s"] for r in train]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           platform.machine())
print(json.dumps({
    "run": run, "options": options, "seq_len": seq_len, "ranks": ranks,
    "batch_size": config["batch_size"], "learning_rate": config["learning_rate"],
    "warmup_steps": config["warmup_steps"],
    "pretrain_seconds": round(float(wall), 1) if wall else None,
    "training_seconds": round(training, 1), "steps": done,
    "steps_per_s": round(done / training, 3),
    "tokens_per_s": {"median": round(statistics.median(rates)), "min": round(min(rates)),
                     "max": round(max(rates))},
    "first_eval": pick(evals[0]), "last_eval": pick(evals[-1]),
    "best_mlm_loss_eval": pick(min(evals, key=lambda r: r["mlm_loss"])),
    "validation_examples": evals[-1]["examples"],
    "machine": {"cpu": cpu, "cores": os.cpu_count()},
}))
PY
}

[[ $# -gt 0 ]] || { echo "$usage"; exit 2; }
if [[ $1 == --report ]]; then
  [[ -f ${2:-}/metrics.jsonl ]] || { echo "tiny_recipe: no run at '${2:-}' ($usage)"; exit 1; }
  report "$2" "" ""
  exit 0
fi
name=$1
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
bash "$root/launch/mpirun.sh" --ranks-per-node "$ranks" --threads 1 --electra "$electra" -- \
  pretrain --config "$root/configs/tiny.ini" --data "$shards" --out "$run" "$@" >"$out/$name.log" 2>&1
report "$run" "$(echo "$(date +%s.%N) - $start" | bc)" "$*"
