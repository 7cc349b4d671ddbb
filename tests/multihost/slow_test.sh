#!/usr/bin/env bash
# No false alarm: slow is not silent. `electra pretrain` on 2 test hosts (tests/multihost/hosts.sh)
# with --peer-timeout 10 finishes without a rank giving up when
#   - every link is limited to 40 Mbit/s (tc tbf): a step's gradient all-reduce takes about 5 s;
#   - host h2 gets 5% of one core (cgroup CPU quota): its steps take about 2.5 s, which the
#     other rank spends waiting.
#   slow_test.sh ELECTRA_BINARY PROJECT_ROOT
# Exit 77 (skipped) without root, iproute2 or network namespaces.
set -euo pipefail
electra=$(realpath "$1")
root=$(realpath "$2")
source "$root/tests/multihost/test_job.sh"
test_job_setup 2

steps=12
# slow NAME: a run under the current slowdown must end with status 0 and every step.
slow() {
  local start status=0
  start=$(date +%s.%N)
  start_pretrain "$HOSTS_FILE" "$work/$1" "$work/$1.log" $steps 10
  wait "$launcher" || status=$?
  local seconds slowest
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  [[ $status -eq 0 ]] || fail "$1: the run ended with status $status after $seconds s"
  slowest=$(grep -oP '"tokens_per_s":\K[0-9.e+-]+' "$work/$1/metrics.jsonl" | sort -g |
    head -n 1 || true)
  [[ -n $slowest ]] || fail "$1: no train records in $work/$1/metrics.jsonl"
  printf '%s: status %s after %.0f s; slowest step %.1f s (--peer-timeout 10)\n' "$1" "$status" \
    "$seconds" "$(echo "512 / $slowest" | bc -l)"
  grep -q 'electra: rank .* exit status 76' "$work/$1.log" && fail "$1: a rank gave up"
  [[ -f $work/$1/FINISHED ]] || fail "$1: the run did not finish"
}

links_rate 40mbit
slow links-40mbit
links_rate none
host_cpu_share h2 5
slow h2-at-5-percent-cpu
echo "PASS: slow links and a slow host: no false alarm"
