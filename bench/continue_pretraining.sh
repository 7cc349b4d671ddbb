#!/usr/bin/env bash
# Measurement (not a test): the main job's model continued on a corpus it has not seen, with
# `electra pretrain --init-from`. The corpus: SpamAssassin mails (../shared/data, dev + test
# splits, the text column) prepared with BERT's uncased vocabulary at 128 tokens. The continued
# run is evaluated before its first step (where the source stands on the mails) and after STEPS;
# a fresh tiny model trained the same STEPS on the same shards is the comparison, with ln(30522)
# (a model that knows nothing) beside them. Prints one JSON object.
# usage: bench/continue_pretraining.sh [SOURCE (runs/quickstart/run)] [STEPS (100)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
source_run=${1:-$root/runs/quickstart/run}
steps=${2:-100}
mails=$root/../shared/data
[[ -f $source_run/metrics.jsonl ]] || {
  echo "continue_pretraining: no run at $source_run (run bash launch/quickstart.sh first)"; exit 1; }
[[ -f $mails/spam_dev.tsv.xz ]] || { echo "continue_pretraining: no mails in $mails"; exit 1; }
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for split in dev test; do xz -dc "$mails/spam_$split.tsv.xz" | tail -n +2 | cut -f1; done \
  >"$work/mails.txt"
"$electra" prepare --input "$work/mails.txt" --out "$work/shards" --seq-len 128 --shards 2 \
  --val-fraction 0.1 >/dev/null
settings="--config $root/configs/tiny.ini --data $work/shards --train-steps $steps
  --eval-every $steps --log-every $steps --save-every 0 --eval-examples 0 --device cpu"
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$electra" pretrain $settings --init-from "$source_run" --out "$work/continued" >"$work/c.log"
continued_s=$(echo "$(date +%s.%N) - $start" | bc)
# shellcheck disable=SC2086
"$electra" pretrain $settings --out "$work/fresh" >"$work/f.log"
/usr/bin/python3 - "$source_run" "$work" "$steps" "$continued_s" <<'PY'
import json, math, os, platform, sys
source, work, steps, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
def evals(run):
    return [r for r in map(json.loads, open(os.path.join(run, "metrics.jsonl"))) if r["kind"] == "eval"]
own = evals(source)[-1]
cont, fresh = evals(os.path.join(work, "continued")), evals(os.path.join(work, "fresh"))
pick = lambda r: {k: round(r[k], 4) for k in ("mlm_loss", "mlm_accuracy", "disc_loss", "disc_auc")}
print(json.dumps({
    "what": "the main job's model continued on SpamAssassin mails (--init-from)",
    "source": source, "source_step": own["step"], "source_eval_on_its_corpus": pick(own),
    "mails_validation_examples": cont[0]["examples"],
    "continued_step_0": pick(cont[0]), f"continued_step_{steps}": pick(cont[-1]),
    f"fresh_step_{steps}": pick(fresh[-1]), "ln_vocab": round(math.log(30522), 4),
    "continued_seconds": round(seconds, 1),
    "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
}, indent=1))
PY
