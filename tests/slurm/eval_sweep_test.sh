#!/usr/bin/env bash
# The slurm test of scheduled evaluation sweeps: on the local one-node SLURM
# (tests/slurm/local_slurm.sh), slurm/eval-sweep.sbatch as a job array over a run's two complete
# checkpoints (one of its launches failing as srun's can), then slurm/watch-checkpoints.sh submitting a sweep for a checkpoint that appears
# later (and nothing for the ones it already submitted). The model is the tiny HF fixture
# imported as a native checkpoint; the task a synthetic one it learns in seconds.
#   eval_sweep_test.sh ELECTRA_BINARY PROJECT_ROOT
# Exit 77 (skipped) without root or the slurm-wlm/munge packages.
set -euo pipefail
source "$(dirname "$0")/slurm_test_common.sh" "$1" "$2" sweep-test
show_logs() {
  for f in "$work"/*.out; do [[ -f $f ]] && { echo "--- $f"; cat "$f"; }; done
  cat "$work/run/eval-sweep/summary.md" 2>/dev/null || true
}

# A run with two complete checkpoints (the second a copy: the sweep only needs two folders).
"$electra" import-hf --model "$root/tests/fixtures/hf-electra-tiny" --out "$work/run" >/dev/null
cp -r "$work/run/checkpoints/step-00000000" "$work/run/checkpoints/step-00000010"
# The task: "spam" when a text contains "prize".
make_task() {  # FILE ROWS SEED
  RANDOM=$3
  local words=(apple river green house music table cloud stone paper light chair water)
  { echo -e "text\tlabel"
    for ((r = 0; r < $2; r++)); do
      local line="" n=$((6 + RANDOM % 5)) at=$((RANDOM % 6))
      for ((i = 0; i < n; i++)); do
        if ((r % 2 == 0 && i == at)); then line+="prize "; else line+="${words[RANDOM % 12]} "; fi
      done
      echo -e "${line% }\t$( ((r % 2 == 0)) && echo spam || echo ham)"
    done; } > "$1"
}
make_task "$work/train.tsv" 192 1
make_task "$work/dev.tsv" 64 2
export TASKS="syn:$work/train.tsv:$work/dev.tsv" LRS=2e-3 SEEDS=1,2 EPOCHS=3 ELECTRA=$electra \
  EXTRA_ARGS="--batch-size 16 --max-seq-len 16"
shape=(--nodes=1 --ntasks=2 --cpus-per-task=1 --time=20)

wait_for() {  # JOBID...: until none is queued or running (600 s at most)
  for _ in $(seq 1200); do
    [[ -z $(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null) ]] && return 0
    sleep 0.5
  done
  fail "jobs $* still queued after 600 s"
}

# The array's jobs see an srun whose first launch fails as a real one can under load (no task
# starts, exit status 0): the job must notice and launch again.
mkdir -p "$work/bin"
cat > "$work/bin/srun" <<FAKE
#!/usr/bin/env bash
if mkdir "$work/srun-failed-once" 2>/dev/null; then
  echo "srun: error: task 0 launch failed: Unspecified error (simulated by the test)" >&2
  exit 0
fi
exec $(command -v srun) "\$@"
FAKE
chmod +x "$work/bin/srun"
array=$(cd "$root" && RUN=$work/run PATH=$work/bin:$PATH sbatch --parsable --array=0-1 \
  "${shape[@]}" --output="$work/array-%A_%a.out" slurm/eval-sweep.sbatch)
echo "submitted array job $array"
wait_for "$array"
grep -h 'its ranks did not run (try 1 of 3)' "$work"/array-*.out ||
  fail "the simulated launch failure was not noticed and retried"
summary=$work/run/eval-sweep/summary.md
[[ -f $summary ]] || fail "no summary.md"
cat "$summary"
grep -q '^| run-step-00000000 | syn | accuracy | ' "$summary" || fail "checkpoint 0 missing from the table"
grep -q '^| run-step-00000010 | syn | accuracy | ' "$summary" || fail "checkpoint 10 missing from the table"
[[ $(grep -c '| 2/2 |' "$summary") == 2 ]] || fail "expected 2 seeds ok for both checkpoints"

# A new checkpoint while the watcher looks: it submits the three not yet submitted by it, then
# (second pass) nothing.
cp -r "$work/run/checkpoints/step-00000010" "$work/run/checkpoints/step-00000020"
first=$(bash "$root/slurm/watch-checkpoints.sh" --run "$work/run" --once -- "${shape[@]}" \
  --output="$work/watch-%j.out")
echo "$first"
[[ $(grep -c 'submitted job' <<< "$first") == 3 ]] || fail "the watcher should submit 3 sweeps"
second=$(bash "$root/slurm/watch-checkpoints.sh" --run "$work/run" --once -- "${shape[@]}")
[[ -z $second ]] || fail "the watcher submitted again: $second"
wait_for $(grep -oP 'submitted job \K[0-9]+' <<< "$first")
grep -q '^| run-step-00000020 | syn | accuracy | ' "$summary" || fail "the new checkpoint is not in the table"
[[ $(grep -c '| 2/2 |' "$summary") == 3 ]] || fail "expected 2 seeds ok for all three checkpoints"
grep -h 'finished before' "$work"/watch-*.out | head -3
echo "PASS: array sweep over 2 checkpoints, watcher sweep for a third; summary.md has all three"
