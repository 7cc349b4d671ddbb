#!/usr/bin/env bash
# Submits one evaluation sweep (slurm/eval-sweep.sbatch) for each new complete checkpoint of a
# running pretraining job, then, once that job is gone, one last sweep over the whole run that
# rebuilds the tables (its cells are all done by then, so it only tabulates).
#   slurm/watch-checkpoints.sh --run RUN [--job PRETRAIN_JOBID] [--interval 300] [--once] \
#     -- [sbatch options, e.g. --export=ALL,TASKS="spam:t.tsv:d.tsv",LRS=1e-4]
# Run it on a login node (or in tmux / a small job). Each checkpoint is submitted once: the list
# is kept in OUT/submitted.txt (OUT: the sweep's, default RUN/eval-sweep). --once: one pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run="" job="" interval=300 once=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --run) run=${2:?}; shift 2 ;;
    --job) job=${2:?}; shift 2 ;;
    --interval) interval=${2:?}; shift 2 ;;
    --once) once=1; shift ;;
    --) shift; break ;;
    *) echo "watch-checkpoints.sh: unknown option '$1' (sbatch options go after --)" >&2; exit 2 ;;
  esac
done
[[ -n $run ]] || { echo "watch-checkpoints.sh: --run RUN is required" >&2; exit 2; }
out=${OUT:-$run/eval-sweep}
mkdir -p "$out"
submitted=$out/submitted.txt
touch "$submitted"

submit() {  # CHECKPOINTS [sbatch options...]
  local checkpoints=$1
  shift
  local id
  # CHECKPOINTS and OUT reach the job through the environment (sbatch's default --export=ALL;
  # an --export option must keep ALL).
  id=$(cd "$root" && CHECKPOINTS=$checkpoints OUT=$out sbatch --parsable "$@" \
    "${sbatch_options[@]}" slurm/eval-sweep.sbatch)
  echo "watch-checkpoints.sh: $(date -Is) submitted job $id for $checkpoints"
}

sbatch_options=("$@")
while :; do
  for dir in $(ls -d "$run"/checkpoints/step-* 2>/dev/null | sort); do
    [[ -f $dir/COMPLETE ]] || continue
    grep -qxF "$dir" "$submitted" && continue
    submit "$dir"
    echo "$dir" >> "$submitted"
  done
  (( once )) && exit 0
  if [[ -n $job ]] && ! squeue -h -j "$job" 2>/dev/null | grep -q .; then
    # The pretraining job is over: the final tables, after every sweep submitted so far.
    pending=$(squeue -h -u "$USER" -n electra-eval-sweep -o %i 2>/dev/null | paste -sd: || true)
    submit "$run" ${pending:+--dependency=afterany:$pending}
    exit 0
  fi
  sleep "$interval"
done
