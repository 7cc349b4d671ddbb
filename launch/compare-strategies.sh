#!/usr/bin/env bash
# The paper's three training strategies (ELECTRA, section 3.2) on one corpus with the same steps,
# batch and seeds: joint (the main job), two-stage and adversarial, each `electra pretrain
# --config configs/tiny.ini --strategy S` on the quickstart corpus; then every final
# discriminator fine-tuned on SpamAssassin by one `electra sweep` (same lrs, seeds, epochs).
#   bash launch/compare-strategies.sh [--strategies joint,two-stage,adversarial] [--steps N]
#     [--lrs 5e-4] [--seeds 1,2,3] [--epochs 3] [--ranks 2] [--joint-run DIR]
#     [--adversarial "OPTIONS"]
#     [--out runs/strategies] [--data DIR]
# --steps: --train-steps of every run (default tiny.ini's). --joint-run: use a finished joint run
# of the same config and corpus instead of training one (e.g. runs/quickstart/run). --adversarial:
# extra pretrain options of the adversarial run (e.g. "--adversarial-mlm-warmup 200").
# The corpus is runs/quickstart/shards (launch/quickstart.sh makes it); the spam split comes
# from DATA (default ../shared/data), checked by launch/spam-data.sh.
# Writes OUT/<strategy>/ (runs; pretrain.seconds: the wall time of the invocation that trained
# it), OUT/sweep/ (results.csv, summary.md), OUT/strategies.md (the table) and
# OUT/eval-curves.png. A rerun continues: finished runs and cells are kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
strategies=joint,two-stage,adversarial steps="" lrs=5e-4 seeds=1,2,3 epochs=3 ranks=2 joint_run=""
adversarial="" out=$root/runs/strategies data=$root/../shared/data
while [ $# -gt 0 ]; do
  case $1 in
    --strategies) strategies=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --lrs) lrs=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --joint-run) joint_run=$2; shift 2 ;;
    --adversarial) adversarial=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "compare-strategies.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
shards=$root/runs/quickstart/shards
[ -x "$electra" ] || { echo "compare-strategies.sh: $electra is missing: run launch/quickstart.sh" >&2; exit 1; }
[ -f "$shards/manifest.json" ] ||
  { echo "compare-strategies.sh: $shards is missing: run launch/quickstart.sh first" >&2; exit 1; }
config=$root/configs/tiny.ini
train_steps=${steps:-$(sed -n 's/^train-steps *= *//p' "$config")}
mkdir -p "$out"
bash "$root/launch/spam-data.sh" "$out/spam" "$data"

# The value of FIELD in the one-line JSON record LINE ("NaN" when absent).
field() { grep -o "\"$2\":[^,}]*" <<< "$1" | head -n 1 | cut -d: -f2 || true; }

IFS=, read -r -a names <<< "$strategies"
checkpoints=()
for s in "${names[@]}"; do
  case $s in joint|two-stage|adversarial) ;; *)
    echo "compare-strategies.sh: unknown strategy '$s' (joint, two-stage, adversarial)" >&2; exit 2 ;;
  esac
  run=$out/$s
  if [ "$s" = joint ] && [ -n "$joint_run" ]; then
    joint_run=$(cd "$joint_run" && pwd)
    [ -f "$joint_run/FINISHED" ] ||
      { echo "compare-strategies.sh: --joint-run $joint_run has not finished (no FINISHED)" >&2; exit 1; }
    used=$(sed -n 's/.*"train_steps": *\([0-9]*\).*/\1/p' "$joint_run/train_config.json")
    [ "$used" = "$train_steps" ] || {
      echo "compare-strategies.sh: --joint-run $joint_run trained $used steps, the others $train_steps" >&2
      exit 1
    }
    if [ -e "$run" ] && [ ! -L "$run" ]; then
      echo "compare-strategies.sh: $run exists and is not a link to --joint-run; remove it first" >&2
      exit 1
    fi
    ln -sfn "$joint_run" "$run"
  elif [ ! -f "$run/FINISHED" ]; then
    extra=()
    [ -n "$steps" ] && extra+=(--train-steps "$steps")
    # shellcheck disable=SC2206  # --adversarial holds several options on purpose
    [ "$s" = adversarial ] && [ -n "$adversarial" ] && extra+=($adversarial)
    start=$(date +%s)
    bash "$root/launch/mpirun.sh" --ranks-per-node "$ranks" --threads 1 --electra "$electra" -- \
      pretrain --config "$config" --data "$shards" --out "$run" --strategy "$s" "${extra[@]}"
    echo $(($(date +%s) - start)) > "$run/pretrain.seconds"
    [ -f "$run/FINISHED" ] || { echo "compare-strategies.sh: $run did not finish" >&2; exit 1; }
  fi
  last=$(ls -d "$run"/checkpoints/step-*/COMPLETE | sort | tail -n 1 | xargs dirname)
  checkpoints+=("$out/$s/checkpoints/$(basename "$last")")
done

spam=$out/spam
bash "$root/launch/mpirun.sh" --ranks-per-node "$ranks" --threads 1 --electra "$electra" -- \
  sweep --checkpoints "$(IFS=,; echo "${checkpoints[*]}")" \
  --task "spam:$spam/spam_train.tsv:$spam/spam_dev.tsv:$spam/spam_test.tsv" \
  --lrs "$lrs" --seeds "$seeds" --epochs "$epochs" --batch-size 32 --max-seq-len 128 --out "$out/sweep"

# The table: the sweep's summary row of each strategy and its run's last evaluation.
table=$out/strategies.md
{
  echo "| strategy | spam dev accuracy (median, best lr) | spam test accuracy (median) | best lr | generator MLM accuracy | RTD AUC | discriminator accuracy | pretrain wall time |"
  echo "|---|---|---|---|---|---|---|---|"
  for i in "${!names[@]}"; do
    s=${names[$i]}
    label="$s-$(basename "${checkpoints[$i]}")"
    # | label | task | metric | lr... | best lr | dev | test | cells |
    row=$(grep "^| $label | spam |" "$out/sweep/summary.md" | head -n 1)
    IFS='|' read -r -a cells <<< "$row"
    n=${#cells[@]}
    best=$(echo "${cells[$((n - 4))]}" | xargs) dev=$(echo "${cells[$((n - 3))]}" | xargs)
    test=$(echo "${cells[$((n - 2))]}" | xargs)
    eval_line=$(grep '"kind":"eval"' "$out/$s/metrics.jsonl" | tail -n 1)
    seconds="not measured here (--joint-run)"
    [ -f "$out/$s/pretrain.seconds" ] && seconds="$(cat "$out/$s/pretrain.seconds") s"
    printf '| %s | %s | %s | %s | %.4f | %.4f | %.4f | %s |\n' "$s" "$dev" "$test" "$best" \
      "$(field "$eval_line" mlm_accuracy)" "$(field "$eval_line" disc_auc)" \
      "$(field "$eval_line" disc_accuracy)" "$seconds"
  done
} > "$table.tmp"
mv "$table.tmp" "$table"

# The evaluation curves of the runs, one line per strategy.
plot=$out/eval-curves.png
work=$out/plot
mkdir -p "$work"
plots=()
for s in "${names[@]}"; do
  grep '"kind":"eval"' "$out/$s/metrics.jsonl" | while read -r line; do
    echo "$(field "$line" step) $(field "$line" mlm_accuracy) $(field "$line" disc_auc) $(field "$line" disc_loss)"
  done > "$work/$s.dat"
done
for column in 2:"generator MLM accuracy" 3:"RTD AUC" 4:"discriminator eval loss"; do
  index=${column%%:*} title=${column#*:}
  lines=()
  for s in "${names[@]}"; do lines+=("'$work/$s.dat' using 1:$index with linespoints title '$s'"); done
  plots+=("set title '$title'; plot $(IFS=,; echo "${lines[*]}")")
done
gnuplot <<GNUPLOT
set terminal pngcairo size 1500,480
set output '$plot.tmp'
set multiplot layout 1,3
set xlabel 'step'
set key below horizontal
set grid
${plots[0]}
${plots[1]}
${plots[2]}
unset multiplot
GNUPLOT
mv "$plot.tmp" "$plot"

echo
cat "$table"
echo "table: $table; curves: $plot; fine-tuning cells: $out/sweep"
