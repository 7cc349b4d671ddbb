#!/usr/bin/env bash
# The multihost fault tests: `electra pretrain` across test hosts (tests/multihost/hosts.sh)
# through launch/mpirun.sh, and one host fails:
#   faults_test.sh ELECTRA_BINARY PROJECT_ROOT training    # 2 hosts; h2 fails at step 15
#   faults_test.sh ELECTRA_BINARY PROJECT_ROOT checkpoint  # 3 hosts; h1 (rank 0, which writes
#                                                          # the model) fails mid-checkpoint
# each with its link cut, frozen (SIGSTOP of every process on it) and killed (SIGKILL). Each
# time: the launcher ends by itself within the bound below (the seconds printed) with status 76,
# the last complete checkpoint is intact (an interrupted one is not taken), and the same command
# with the host back resumes and ends with the very loss of an uninterrupted run.
# Exit 77 (skipped) without root, iproute2 or network namespaces.
set -euo pipefail
electra=$(realpath "$1")
root=$(realpath "$2")
mode=$3
source "$root/tests/multihost/test_job.sh"

peer_timeout=5
# A silent host ends the job within: the deadline (--peer-timeout, or 4x the longest step when
# that is longer: the survivors' line says which) + 5 s for the answers + 1 s answering on + the
# launcher's grace (15 s) + 10 s margin. The loop waits up to 120 s; the check is against the
# deadline the line reports.
margin=$((5 + 1 + 15 + 10))
steps=30
case $mode in
  training) count=2 victim=h2 ;;
  checkpoint) count=3 victim=h1 ;;
  *) echo "faults_test.sh: mode is training or checkpoint, not '$mode'" >&2; exit 2 ;;
esac
test_job_setup "$count"

# pretrain RUN LOG [VAR=VALUE ...]: the job on every host, in the background.
pretrain() { start_pretrain "$HOSTS_FILE" "$1" "$2" $steps $peer_timeout "${@:3}"; }

pretrain "$work/baseline" "$work/baseline.log"
wait "$launcher" || fail "the uninterrupted run failed"
expected=$(final_loss "$work/baseline" $steps)
echo "uninterrupted: $count hosts, loss at step $steps: $expected"

for fault in cut freeze kill; do
  run=$work/$fault
  if [[ $mode == training ]]; then
    pretrain "$run" "$work/$fault.log"
    until grep -q '"step":15,' "$run/metrics.jsonl" 2>/dev/null; do
      kill -0 "$launcher" 2>/dev/null || fail "$fault: the job ended before step 15"
      sleep 0.1
    done
  else
    pretrain "$run" "$work/$fault.log" ELECTRA_INJECT_CHECKPOINT_STALL=0:20
    until grep -q 'stalled in the checkpoint of step 20' "$work/$fault.log"; do
      kill -0 "$launcher" 2>/dev/null || fail "$fault: the job ended before the checkpoint of step 20"
      sleep 0.1
    done
  fi
  host_"$fault" "$victim"
  start=$(date +%s.%N)
  status=0
  for _ in $(seq 1200); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$launcher" 2>/dev/null && fail "$fault: the job did not end within 120 s"
  wait "$launcher" || status=$?
  took=$(echo "$(date +%s.%N) - $start" | bc)
  deadline=$(grep -oP 'did not complete within \K[0-9.]+(?= s)' "$work/$fault.log" | sort -g |
    tail -n 1 || true)
  bound=$(echo "${deadline:-$peer_timeout} + $margin" | bc)
  printf '%s of %s (%s): the job ended %.1f s later, status %s (bound %s s)\n' "$fault" "$victim" \
    "$mode" "$took" "$status" "$bound"
  [[ $status -eq 76 ]] || fail "$fault: the launcher's status is $status, not 76"
  (( $(echo "$took <= $bound" | bc) )) || fail "$fault: the job took $took s to end (bound $bound s)"
  grep -E '^electra: rank [0-9]+ \(h[0-9]\): step [0-9]+: .* no answer within .* from rank' \
    "$work/$fault.log" | sed 's/^/  /' || true
  if [[ $fault != kill ]]; then
    # The ranks on the survivors name the silent one (a killed host is reported by mpirun at once).
    grep -qE "no answer within [0-9.]+ s from rank [0-9]+ \($victim\)" "$work/$fault.log" ||
      fail "$fault: no surviving rank named the silent rank on $victim"
  fi
  # The last complete checkpoint: step 10 (the interrupted one of step 20 is not complete).
  [[ -f $run/checkpoints/step-00000010/COMPLETE ]] || fail "$fault: the checkpoint of step 10 is not complete"
  [[ ! -f $run/checkpoints/step-00000020/COMPLETE ]] || fail "$fault: step 20 is marked complete"
  # The host comes back (link up, thawed, its leftover processes gone, as after a reboot) and the
  # same command resumes.
  host_restore "$victim"
  host_thaw "$victim"
  host_kill "$victim"
  pretrain "$run" "$work/$fault-resume.log"
  wait "$launcher" || fail "$fault: the resumed run failed"
  grep -q "resumed at step 10" "$work/$fault-resume.log" || fail "$fault: did not resume at step 10"
  resumed=$(final_loss "$run" $steps)
  echo "  resumed at step 10; loss at step $steps: $resumed"
  [[ $resumed == "$expected" ]] || fail "$fault: the resumed run's loss $resumed is not $expected"
done
echo "PASS: $mode faults"
