#!/usr/bin/env bash
# Does pretraining help downstream, at CPU size? (issue 27, item 4)
#   (a) the ELECTRA pair pretrained with configs/tiny.ini (plus --pretrain-args) on the main job's
#       corpus (the quickstart shards; prepared as launch/quickstart.sh does when missing),
#   (b) the same discriminator architecture from random weights (sweep --random-baseline),
#   (c) BERT's MLM objective alone (--strategy mlm) on a model of the discriminator's size, from
#       the same start, for the same pretraining compute: its steps = (a)'s x (a)'s FLOP per
#       token / (c)'s, both read from the runs' own model_flop_per_s records,
#   (d) with --start counts, that start itself, not pretrained (a one-step run at lr 1e-12),
# each fine-tuned on SST-2 (every 8th training row, 8,419, and the full dev set), CoNLL-2000
# chunking (train / test as dev) and SpamAssassin (train / dev / test), the same settings for all
# (3 epochs, batch 32, 128 tokens, --lr, seeds 1,2,3) in one `electra sweep`. Writes
# OUT/benefit.md and OUT/benefit.json: per task and model the median and range over seeds of the
# dev metric, and whether (a) beats (b), (c) and (d) by more than the seeds' spread (its worst seed
# above the other's best). A rerun keeps finished runs and cells.
#   bash bench/learning_benefit.sh [--out DIR] [--shared DIR] [--lr 3e-4] [--seeds 1,2,3]
#        [--ranks 2] [--pretrain-args "--learning-rate 1.25e-4 ..."] [--steps 2000]
#        [--corpus PATH [--vocab-size N]] [--start counts|paper] [--reinit-layers N] [--quick]
# --corpus: pretrain on these text files or folders instead (prepared into OUT/shards), with
# --vocab-size a WordPiece vocabulary of that size learnt on them by `electra vocab`
# (OUT/vocab.txt; the tasks are then read with it too), else BERT's.
# --start: counts (configs/tiny.ini's: `pretrain --word-rows-init ppmi --output-bias-init
# unigram`, the word rows from the corpus's counts and the generator's output bias at the log
# unigram prior) or paper (the paper's initialisation: random rows, zero bias).
# --reinit-layers N: fine-tune (a), (c) and (d) with the discriminator's top N layers drawn afresh
# (`sweep --reinit-layers`; (b) is fresh throughout), in OUT/sweep-reinitN with its own
# OUT/benefit-reinitN.md and .json (the pretraining runs are shared).
# --quick: a smoke run of the whole pipeline (40 pretraining steps, 1 seed, small task subsets);
# its figures mean nothing (default --out runs/benefit-quick).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=""
shared=$root/../shared/data
lr=3e-4
seeds=1,2,3
ranks=2
pretrain_args=""
steps=2000
corpus=()
vocab_size=0
quick=0
reinit=0
start_kind=counts
electra=${ELECTRA_BINARY:-${ELECTRA_BUILD_DIR:-$root/build}/app/electra}
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --shared) shared=$2; shift 2 ;;
    --lr) lr=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --pretrain-args) pretrain_args=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --corpus) corpus+=("$2"); shift 2 ;;
    --vocab-size) vocab_size=$2; shift 2 ;;
    --start) start_kind=$2; shift 2 ;;
    --reinit-layers) reinit=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "bench/learning_benefit.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[[ $steps =~ ^[1-9][0-9]*$ ]] || { echo "bench/learning_benefit.sh: --steps must be a positive whole number" >&2; exit 2; }
[[ $vocab_size =~ ^[0-9]+$ ]] || { echo "bench/learning_benefit.sh: --vocab-size must be a whole number of tokens" >&2; exit 2; }
[[ $reinit =~ ^(0|[1-9][0-9]*)$ ]] || { echo "bench/learning_benefit.sh: --reinit-layers must be a whole number of layers" >&2; exit 2; }
[[ $start_kind == counts || $start_kind == paper ]] || { echo "bench/learning_benefit.sh: --start is counts or paper" >&2; exit 2; }
if ((vocab_size > 0)) && ((${#corpus[@]} == 0)); then
  echo "bench/learning_benefit.sh: --vocab-size needs --corpus (the text to learn it on)" >&2; exit 2
fi
# A smoke run never shares a folder with a real one (its runs and cells would be kept).
if [[ -z $out ]]; then
  out=$root/runs/benefit
  ((quick)) && out=$root/runs/benefit-quick
fi
for need in "$electra" "$shared/glue/SST-2/train.tsv.xz" "$shared/conll2000/train.txt.xz" \
  "$shared/spam_train.tsv.xz"; do
  [[ -e $need ]] || { echo "bench/learning_benefit.sh: $need is missing" >&2; exit 1; }
done
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
machine=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
start=$(date +%s)
mkdir -p "$out/data"
mpi() { bash "$root/launch/mpirun.sh" --ranks-per-node "$ranks" --threads 1 --electra "$electra" -- "$@"; }

# The tasks' files.
data=$out/data
every=8 conll_every=1
((quick)) && every=200 conll_every=40 seeds=1
xz -dc "$shared/glue/SST-2/train.tsv.xz" | awk -v n=$every 'NR == 1 || (NR - 2) % n == 0' >"$data/sst2-train.tsv"
xz -dc "$shared/glue/SST-2/dev.tsv.xz" | awk -v n=$((quick ? 8 : 1)) 'NR == 1 || (NR - 2) % n == 0' >"$data/sst2-dev.tsv"
# CoNLL's sentences are blank-line separated: keep every Nth one.
for split in train test; do
  xz -dc "$shared/conll2000/$split.txt.xz" |
    awk -v n=$conll_every 'BEGIN { RS = ""; ORS = "\n\n" } (NR - 1) % n == 0' >"$data/conll-$split.txt"
done
bash "$root/launch/spam-data.sh" "$data" "$shared"
spam_files=("$data/spam_train.tsv" "$data/spam_dev.tsv" "$data/spam_test.tsv")
if ((quick)); then
  for split in train dev test; do
    awk 'NR == 1 || NR % 20 == 0' "$data/spam_$split.tsv" >"$data/spam-quick-$split.tsv"
  done
  spam_files=("$data/spam-quick-train.tsv" "$data/spam-quick-dev.tsv" "$data/spam-quick-test.tsv")
fi

# The corpus: the main job's shards, or --corpus prepared here (with its own vocabulary).
shards=$root/runs/quickstart/shards
vocab_args=()
if ((${#corpus[@]})); then
  shards=$out/shards
  inputs=()
  for c in "${corpus[@]}"; do inputs+=(--input "$c"); done
  if ((vocab_size > 0)); then
    [[ -f $out/vocab.txt ]] || "$electra" vocab "${inputs[@]}" --size "$vocab_size" --out "$out/vocab.txt" >/dev/null
    vocab_args=(--vocab "$out/vocab.txt")
  fi
  [[ -f $shards/manifest.json ]] ||
    "$electra" prepare "${inputs[@]}" "${vocab_args[@]}" --out "$shards" --seq-len 128 --shards 4 \
      --val-fraction 0.01 >/dev/null
  ((vocab_size > 0)) && vocab_args+=(--set "vocab_size=$vocab_size")
elif [[ ! -f $shards/manifest.json ]]; then
  shards=$out/shards
  [[ -f $shards/manifest.json ]] ||
    "$electra" prepare --input "$root/data/sample" --out "$shards" --seq-len 128 --shards 4 \
      --val-fraction 0.02 >/dev/null
fi

# pretrain NAME ARGS...: a run in OUT/NAME (resumed or kept when finished).
pretrain() {
  local name=$1; shift
  [[ -f $out/$name/FINISHED ]] && return 0
  local t; t=$(date +%s)
  # shellcheck disable=SC2086
  mpi pretrain --config "$root/configs/tiny.ini" --data "$shards" --out "$out/$name" --device cpu \
    "${vocab_args[@]}" "$@" $pretrain_args >"$out/$name.log" 2>&1 ||
    { echo "bench/learning_benefit.sh: pretraining $name failed; see $out/$name.log" >&2; exit 1; }
  echo "pretrained $name in $(($(date +%s) - t)) s"
  echo "pretrain-$name $(($(date +%s) - t))" >>"$out/phase-seconds.txt"
}
# flop_per_token RUN: from its train records (model FLOP/s over tokens/s).
flop_per_token() {
  python3 - "$1/metrics.jsonl" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
r = [x for x in r if x.get("kind") == "train" and x.get("tokens_per_s")]
print(r[-1]["model_flop_per_s"] / r[-1]["tokens_per_s"])
PY
}
quick_args=()
((quick)) && steps=40 quick_args=(--warmup-steps 4 --eval-every 20 --save-every 20)
start_args=(--word-rows-init ppmi --output-bias-init unigram) start_checkpoint=""
if [[ $start_kind == counts ]]; then
  # (d): the start as a checkpoint, one step at a learning rate that moves nothing.
  pretrain start --train-steps 1 --learning-rate 1e-12 --log-every 1 --eval-every 0 --save-every 1 \
    "${start_args[@]}"
  start_checkpoint=",$(ls -d "$out/start/checkpoints"/step-* | tail -1)"
else
  start_args=(--word-rows-init random --output-bias-init zero)
fi
pretrain joint --train-steps "$steps" "${start_args[@]}" "${quick_args[@]}"
joint_fpt=$(flop_per_token "$out/joint")
if [[ ! -f $out/mlm/FINISHED ]]; then  # a few steps to read the MLM model's FLOP per token
  rm -rf "$out/mlm-probe"
  pretrain mlm-probe --strategy mlm --train-steps 4 --warmup-steps 1 --log-every 2 --eval-every 0 --save-every 0
  mlm_fpt=$(flop_per_token "$out/mlm-probe")
  rm -rf "$out/mlm-probe" "$out/mlm-probe.log"
  mlm_steps=$(python3 -c "print(round($steps * $joint_fpt / $mlm_fpt))")
  echo "$mlm_steps" >"$out/mlm-steps"
fi
mlm_steps=$(cat "$out/mlm-steps")
pretrain mlm --strategy mlm --train-steps "$mlm_steps" "${start_args[@]}" "${quick_args[@]}"
last() { ls -d "$out/$1/checkpoints"/step-* | tail -1; }

# The fine-tuning: one sweep, (b) as its random-init rows.
sweep=sweep suffix=""
((reinit > 0)) && sweep=sweep-reinit$reinit suffix=-reinit$reinit
# (b)'s cells do not depend on --reinit-layers: a sibling sweep's finished ones are taken over
# (the sweep checks each against its settings before it adopts it).
for other in "$out"/sweep*/cells/random-init; do
  [[ -d $other && ! -e $out/$sweep/cells/random-init ]] || continue
  mkdir -p "$out/$sweep/cells" && cp -r "$other" "$out/$sweep/cells/"
done
t=$(date +%s)
mpi sweep --checkpoints "$(last joint),$(last mlm)$start_checkpoint" --random-baseline \
  --task "sst2:$data/sst2-train.tsv:$data/sst2-dev.tsv" \
  --task "chunking@token:$data/conll-train.txt:$data/conll-test.txt" \
  --task "spam:${spam_files[0]}:${spam_files[1]}:${spam_files[2]}" \
  --lrs "$lr" --seeds "$seeds" --epochs 3 --batch-size 32 --max-seq-len 128 --device cpu \
  --reinit-layers "$reinit" --out "$out/$sweep" >"$out/$sweep.log" 2>&1 ||
  { echo "bench/learning_benefit.sh: the sweep failed; see $out/$sweep.log" >&2; exit 1; }
echo "$sweep $(($(date +%s) - t))" >>"$out/phase-seconds.txt"

corpus_said="the main job's corpus"
((${#corpus[@]})) && corpus_said="${corpus[*]}"
((vocab_size > 0)) && corpus_said+=" with a ${vocab_size}-token vocabulary learnt on it"
start_said="the paper's initialisation"
[[ -n $start_checkpoint ]] && start_said="the corpus's counts (--word-rows-init ppmi --output-bias-init unigram)"
python3 - "$out" "$machine" $(($(date +%s) - start)) "$steps" "$mlm_steps" "$joint_fpt" "$lr" "$seeds" "$pretrain_args" "$corpus_said" "$start_said" "$sweep" "$suffix" "$reinit" <<'PY'
import csv, json, statistics, sys
out, machine, seconds, steps, mlm_steps, joint_fpt, lr, seeds, extra, corpus, start, sweep, suffix, reinit = sys.argv[1:]
# Each phase's seconds when it ran (a rerun keeps finished phases: their time is what they took).
phases = {}
try:
    for line in open(f"{out}/phase-seconds.txt"):
        name, value = line.split()
        if name.startswith("sweep") and name != sweep:
            continue  # another fine-tuning of the same runs
        phases[name] = phases.get(name, 0) + int(value)  # a resumed phase: both parts
except FileNotFoundError:
    pass
rows = list(csv.DictReader(open(f"{out}/{sweep}/results.csv")))
def model(label):
    if label.startswith("joint-"):
        return "a: ELECTRA"
    if label.startswith("mlm-"):
        return "c: MLM"
    return "b: random" if label == "random-init" else "d: the start alone"
tasks = {}
for r in rows:
    if r["status"] != "ok":
        continue
    t = tasks.setdefault(r["task"], {"metric": r["metric"], "models": {}})
    t["models"].setdefault(model(r["checkpoint"]), []).append(float(r["dev"]))
table = []
for task, t in tasks.items():
    m = {k: {"seeds": v, "median": statistics.median(v), "min": min(v), "max": max(v)}
         for k, v in sorted(t["models"].items())}
    a, b, c, d = m.get("a: ELECTRA"), m.get("b: random"), m.get("c: MLM"), m.get("d: the start alone")
    table.append({"task": task, "metric": t["metric"], "models": m,
                  "a_beats_b": bool(a and b and a["min"] > b["max"]),
                  "a_beats_d": bool(a and d and a["min"] > d["max"]),
                  "a_beats_c": bool(a and c and a["min"] > c["max"]),
                  "c_beats_a": bool(a and c and c["min"] > a["max"])})
report = {"machine": machine, "seconds_this_call": int(seconds), "phase_seconds": phases,
          "seconds": sum(phases.values()), "electra_steps": int(steps),
          "mlm_steps": int(mlm_steps), "electra_flop_per_token": float(joint_fpt),
          "finetune": {"lr": lr, "seeds": seeds, "epochs": 3, "batch": 32, "max_seq_len": 128,
                       "reinit_layers": int(reinit)},
          "pretrain_args": extra, "corpus": corpus, "start": start, "tasks": table,
          "a_beats_b_on": sum(t["a_beats_b"] for t in table)}
json.dump(report, open(f"{out}/benefit{suffix}.json", "w"), indent=1)
timing = ", ".join(f"{k} {v} s" for k, v in phases.items())
lines = [f"# Does pretraining help? ({machine}; {report['seconds']} s in all: {timing})", "",
         f"(a) ELECTRA, configs/tiny.ini {extra}, {steps} steps on {corpus}, from {start}; (b) random weights; "
         f"(c) MLM alone, {mlm_steps} steps (the same FLOPs), from the same start; (d) (a)'s start, "
         f"not pretrained. Fine-tuning: lr {lr}, seeds {seeds}, 3 epochs, batch 32"
         + (f", the discriminator's top {reinit} layer(s) drawn afresh for (a), (c) and (d)." if int(reinit) else "."), "",
         "| task (dev metric) | (a) ELECTRA | (b) random | (c) MLM | (d) the start alone | a > b beyond the seeds "
         "| a vs c | a > d beyond the seeds |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
def cell(x):
    return "-" if not x else f"{x['median']:.4f} ({x['min']:.4f}-{x['max']:.4f})"
for t in table:
    m = t["models"]
    versus = "a better" if t["a_beats_c"] else "c better" if t["c_beats_a"] else "within the seeds"
    lines.append(f"| {t['task']} ({t['metric']}) | {cell(m.get('a: ELECTRA'))} | {cell(m.get('b: random'))} "
                 f"| {cell(m.get('c: MLM'))} | {cell(m.get('d: the start alone'))} "
                 f"| {'yes' if t['a_beats_b'] else 'no'} | {versus} "
                 f"| {('yes' if t['a_beats_d'] else 'no') if m.get('d: the start alone') else '-'} |")
lines += ["", f"(a) beats (b) beyond the seeds' spread on {report['a_beats_b_on']} of {len(table)} tasks."]
open(f"{out}/benefit{suffix}.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
