#!/usr/bin/env bash
# Measurement (not a test): the main job's model continued on a corpus it has not seen, with
# `electra pretrain --init-from`. The corpus (from ../shared/data, prepared with BERT's uncased
# vocabulary at 128 tokens): `sotu-before-1962`, the State of the Union addresses just before the
# sample corpus's first (1962; the last 4,000 sentences before it), the source's domain but text
# it has not seen; or `mails`, SpamAssassin mails (dev + test splits, the text column), another
# domain. The continued run is evaluated before its first step, with the source's weights: that is
# the source model's loss on the new corpus; and after STEPS. A fresh tiny model trained the same
# STEPS on the same shards is the comparison, with ln(30522) (a model that knows nothing) beside
# them. Prints one JSON object.
# usage: bench/continue_pretraining.sh [SOURCE (runs/quickstart/run)] [STEPS (100)]
#                                      [CORPUS: sotu-before-1962 (default) | mails]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
source_run=${1:-$root/runs/quickstart/run}
steps=${2:-100}
corpus=${3:-sotu-before-1962}
shared=$root/../shared/data
[[ -f $source_run/metrics.jsonl ]] || {
  echo "continue_pretraining: no run at $source_run (run bash launch/quickstart.sh first)"; exit 1; }
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case $corpus in
  mails)
    for split in dev test; do xz -dc "$shared/spam_$split.tsv.xz" | tail -n +2 | cut -f1; done ;;
  sotu-before-1962)
    # The sample corpus (data/sample/sotu_recent.txt) starts at the 1962 address's second line.
    first_seen=$(head -2 "$root/data/sample/sotu_recent.txt" | tail -1)
    xz -dc "$shared/sotu.txt.xz" >"$work/sotu.txt"
    awk -v seen="$first_seen" '$0 == seen { exit } { print }' "$work/sotu.txt" | head -n -1 |
      tail -n 4000 ;;
  *) echo "continue_pretraining: CORPUS is sotu-before-1962 or mails, not '$corpus'"; exit 2 ;;
esac >"$work/corpus.txt"
[[ -s $work/corpus.txt ]] || { echo "continue_pretraining: no $corpus text in $shared"; exit 1; }
"$electra" prepare --input "$work/corpus.txt" --out "$work/shards" --seq-len 128 --shards 2 \
  --val-fraction 0.1 >/dev/null
settings="--config $root/configs/tiny.ini --data $work/shards --train-steps $steps
  --eval-every $steps --log-every $steps --save-every 0 --eval-examples 0 --device cpu"
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$electra" pretrain $settings --init-from "$source_run" --out "$work/continued" >"$work/c.log"
continued_s=$(echo "$(date +%s.%N) - $start" | bc)
# shellcheck disable=SC2086
"$electra" pretrain $settings --out "$work/fresh" >"$work/f.log"
/usr/bin/python3 - "$source_run" "$work" "$steps" "$continued_s" "$corpus" <<'PY'
import json, math, os, platform, sys
source, work, steps, seconds, corpus = sys.argv[1:3] + [int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]]
def evals(run):
    return [r for r in map(json.loads, open(os.path.join(run, "metrics.jsonl"))) if r["kind"] == "eval"]
own = evals(source)[-1]
cont, fresh = evals(os.path.join(work, "continued")), evals(os.path.join(work, "fresh"))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           platform.machine())
pick = lambda r: {k: round(r[k], 4) for k in ("mlm_loss", "mlm_accuracy", "disc_loss", "disc_auc")}
print(json.dumps({
    "what": f"the main job's model continued on {corpus} (--init-from)",
    "source": source, "source_step": own["step"], "source_eval_on_its_corpus": pick(own),
    "corpus": corpus, "validation_examples": cont[0]["examples"],
    "continued_step_0 (the source model on this corpus)": pick(cont[0]), f"continued_step_{steps}": pick(cont[-1]),
    f"fresh_step_{steps}": pick(fresh[-1]), "ln_vocab": round(math.log(30522), 4),
    "continued_seconds": round(seconds, 1),
    "machine": {"cpu": cpu, "cores": os.cpu_count()},
}, indent=1))
PY
