#!/usr/bin/env bash
# The README's fine-tuning results on the real files of ../shared/data: SQuAD v1.1 (40 articles
# of the official dev file train, the other 8 evaluate), CoNLL-2000 chunking and UD English-Atis
# POS, each from a pretrained model and from random weights (--random-init), plus trivial
# baselines: SQuAD's (first sentence, a random span) scored by `electra evaluate --answers`, the
# taggers' (the most frequent tag per word or per POS tag) by `electra evaluate --conlleval`. One JSON line
# per run (task, init, the dev figures, throughput, seconds) in OUT/summary.jsonl.
#   bash bench/finetune_real_data.sh [--model RUN] [--shared DIR] [--out DIR] [--ranks N] [--only squad|conll|atis]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=$root/runs/quickstart/run
shared=$root/../shared/data
out=$root/runs/finetune-real
ranks=2
only=""
electra=${ELECTRA_BINARY:-${ELECTRA_BUILD_DIR:-$root/build}/app/electra}
while (($#)); do
  case $1 in
    --model) model=$2; shift 2 ;;
    --shared) shared=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "bench/finetune_real_data.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
for need in "$model" "$shared/squad/dev-v1.1.json.xz" "$shared/conll2000/train.txt.xz" "$shared/ud-atis/en_atis-ud-train.conllu.xz"; do
  [[ -e $need ]] || { echo "bench/finetune_real_data.sh: $need is missing" >&2; exit 1; }
done
data=$out/data
mkdir -p "$data"
python3 "$root/launch/split_squad.py" "$shared/squad/dev-v1.1.json.xz" --train-articles 40 \
  --train-out "$data/squad-train40.json" --dev-out "$data/squad-dev8.json" >/dev/null
xz -dc "$shared/conll2000/train.txt.xz" >"$data/conll2000-train.txt"
xz -dc "$shared/conll2000/test.txt.xz" >"$data/conll2000-test.txt"
for split in train dev; do
  xz -dc "$shared/ud-atis/en_atis-ud-$split.conllu.xz" >"$data/atis-$split.conllu"
done
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
machine=$(lscpu | sed -n 's/^Model name: *//p' | head -1)

# run NAME INIT ARGS...: one fine-tuning run, its results as a summary line.
run() {
  local name=$1 init=$2; shift 2
  local dir=$out/$name-$init extra=()
  [[ $init == random ]] && extra=(--random-init)
  local start; start=$(date +%s)
  bash "$root/launch/mpirun.sh" --ranks-per-node "$ranks" --threads 1 --electra "$electra" -- \
    finetune --model "$model" --out "$dir" --device cpu "${extra[@]}" "$@" >"$dir.log" 2>&1 ||
    { echo "bench/finetune_real_data.sh: $name ($init) failed; see $dir.log" >&2; exit 1; }
  python3 - "$dir/results.json" "$name" "$init" $(($(date +%s) - start)) "$machine" <<'PY' >>"$out/summary.jsonl"
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"task": sys.argv[2], "init": sys.argv[3], "seconds": int(sys.argv[4]),
                  "machine": sys.argv[5], "best_epoch": r["best_epoch"], "dev": {
                      k: v for k, v in r["dev"].items() if k != "by_type"},
                  "throughput": r["throughput"]}))
PY
  tail -1 "$out/summary.jsonl"
}

if [[ -z $only || $only == atis ]]; then
  for init in pretrained random; do
    run atis-pos $init --task-type token --train "$data/atis-train.conllu" --dev "$data/atis-dev.conllu" \
      --epochs 3 --lr 3e-4 --batch-size 16 --max-seq-len 128
  done
fi
# baseline KIND NAME FILE: a trivial tagger's predictions scored by electra's conlleval.
baseline() {
  local scores; scores=$("$electra" evaluate --conlleval "$3" 2>/dev/null)
  python3 - "$1" "$2" "$scores" <<'PY' >>"$out/summary.jsonl"
import json, sys
d = json.loads(sys.argv[3])
print(json.dumps({"task": sys.argv[1], "init": "baseline: " + sys.argv[2],
                  "dev": {k: v for k, v in d.items() if k != "by_type"}}))
PY
  tail -1 "$out/summary.jsonl"
}

if [[ -z $only || $only == atis ]]; then
  python3 "$root/bench/tagging_baselines.py" upos "$data/atis-train.conllu" "$data/atis-dev.conllu" \
    --out-dir "$out/tag-baselines" >/dev/null
  baseline atis-pos word-majority "$out/tag-baselines/upos-word-majority.txt"
fi
if [[ -z $only || $only == conll ]]; then
  python3 "$root/bench/tagging_baselines.py" chunk "$data/conll2000-train.txt" "$data/conll2000-test.txt" \
    --out-dir "$out/tag-baselines" >/dev/null
  baseline conll2000-chunking pos-majority "$out/tag-baselines/chunk-pos-majority.txt"
  baseline conll2000-chunking word-majority "$out/tag-baselines/chunk-word-majority.txt"
fi
if [[ -z $only || $only == conll ]]; then
  for init in pretrained random; do
    run conll2000-chunking $init --task-type token --train "$data/conll2000-train.txt" \
      --dev "$data/conll2000-test.txt" --epochs 3 --lr 3e-4 --batch-size 16 --max-seq-len 128
  done
fi
if [[ -z $only || $only == squad ]]; then
  python3 "$root/bench/squad_baselines.py" "$data/squad-dev8.json" --out-dir "$out/squad-baselines" >/dev/null
  for baseline in first-sentence random-span; do
    scores=$("$electra" evaluate --answers "$out/squad-baselines/$baseline.json" --data "$data/squad-dev8.json")
    echo "{\"task\": \"squad-v1.1\", \"init\": \"baseline: $baseline\", \"dev\": $scores}" >>"$out/summary.jsonl"
    tail -1 "$out/summary.jsonl"
  done
  for init in pretrained random; do
    run squad-v1.1 $init --task-type span --train "$data/squad-train40.json" --dev "$data/squad-dev8.json" \
      --epochs 2 --lr 3e-4 --batch-size 16 --max-seq-len 128 --max-query-len 32 --doc-stride 64
  done
fi
echo "summary: $out/summary.jsonl"
