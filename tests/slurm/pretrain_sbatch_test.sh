#!/usr/bin/env bash
# The slurm test: on a one-node SLURM cluster started here (tests/slurm/local_slurm.sh), submits
# slurm/pretrain.sbatch with 2 tasks on the tiny config, sends the job the preemption signal
# (scancel --signal=USR1 --batch, as --signal=B:USR1@120 does before the time limit) and checks
# that the ranks checkpoint, the script requeues the job, the second start resumes from that
# checkpoint and the job completes with every step. Stops the daemons it started.
#   pretrain_sbatch_test.sh ELECTRA_BINARY PROJECT_ROOT
# Exit 77 (skipped) without root or the slurm-wlm/munge packages.
set -euo pipefail
source "$(dirname "$0")/slurm_test_common.sh" "$1" "$2" slurm-test
show_logs() {
  echo "--- job log"; cat "$work"/job-*.out 2>/dev/null || true
  echo "--- scontrol"; scontrol show job "${job:-0}" 2>/dev/null || true
  echo "--- slurmctld log (tail)"; tail -n 30 "$work/cluster/log/slurmctld.log" || true
}
trap '[[ -n ${job:-} ]] && scancel "$job" 2>/dev/null; stop_cluster' EXIT
"$electra" prepare --input "$root/data/sample/mobydick.txt" --out "$work/data" --seq-len 64 \
  --shards 2 --val-fraction 0.05 >/dev/null

steps=40
run=$work/run
job=$(cd "$root" && sbatch --parsable --job-name=electra-slurm-test --output="$work/job-%j.out" \
  --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 --gpus-per-node=0 --time=20 \
  --export=ALL,CONFIG=configs/tiny.ini,DATA="$work/data",RUN="$run",ELECTRA="$electra",EXTRA_ARGS="--train-steps $steps --batch-size 4 --log-every 1 --eval-every 0 --save-every 100 --eval-examples 32 --device cpu" \
  slurm/pretrain.sbatch)
echo "submitted job $job"

state() { scontrol show job "$job" 2>/dev/null | grep -oP 'JobState=\K\S+' || echo UNKNOWN; }
# Wait for step 5, then preempt.
for _ in $(seq 600); do
  grep -q '"step":5,' "$run/metrics.jsonl" 2>/dev/null && break
  [[ $(state) =~ ^(FAILED|COMPLETED|CANCELLED|TIMEOUT)$ ]] && fail "job ended before step 5: $(state)"
  sleep 0.2
done
grep -q '"step":5,' "$run/metrics.jsonl" 2>/dev/null || fail "no step 5 within 120 s"
scancel --signal=USR1 --batch "$job"
echo "sent USR1 to the batch script of job $job"

# The job requeues (Restarts=1) and completes.
for _ in $(seq 900); do
  [[ $(state) =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL)$ ]] && break
  sleep 0.5
done
[[ $(state) == COMPLETED ]] || fail "the job did not complete within 450 s: $(state)"
details=$(scontrol show job "$job")
restarts=$(grep -oP 'Restarts=\K[0-9]+' <<< "$details")
exit_code=$(grep -oP ' ExitCode=\K\S+' <<< "$details")
log=$(cat "$work/job-$job.out")
echo "$log" | grep -E 'pretrain.sbatch|pretrain:|SIGUSR1|checkpoint' || true
# One requeue for the signal (one more when a restarted step failed to launch, which srun does on
# an overloaded machine; the script retries it).
[[ $restarts -ge 1 && $restarts -le 2 ]] || fail "expected 1 requeue, scontrol says Restarts=$restarts"
[[ -f $run/FINISHED ]] || fail "no FINISHED marker"
[[ $exit_code == 0:0 ]] || fail "ExitCode=$exit_code"
grep -q 'USR1 received' <<< "$log" || fail "the script did not report the signal"
stopped=$(grep -oP 'SIGUSR1 at step \K[0-9]+' <<< "$log") || fail "the ranks did not checkpoint on SIGUSR1"
grep -q "requeueing job $job" <<< "$log" || fail "the script did not requeue"
grep -q "resumed at step $stopped" <<< "$log" || fail "the second start did not resume at step $stopped"
[[ -f $run/checkpoints/step-$(printf %08d "$steps")/COMPLETE ]] || fail "no complete checkpoint at step $steps"
train_steps=$(grep -c '"kind":"train"' "$run/metrics.jsonl")
[[ $train_steps == "$steps" ]] || fail "metrics.jsonl has $train_steps train records, expected $steps"
echo "PASS: job $job stopped at step $stopped on USR1, requeued once, resumed and completed $steps steps"
