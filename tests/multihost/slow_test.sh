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
source "$root/tests/multihost/hosts.sh"
hosts_require
hosts_up 2
work=$HOSTS_DIR/work
mkdir -p "$work"
fail() {
  echo "FAIL: $*"
  [[ -n ${launcher:-} ]] && kill -9 "$launcher" 2>/dev/null
  for log in "$work"/*.log; do [[ -f $log ]] && { echo "--- $log (tail)"; tail -n 25 "$log"; }; done
  exit 1
}
"$electra" prepare --input "$root/data/sample/mobydick.txt" --out "$work/data" --seq-len 64 \
  --shards 2 --val-fraction 0.05 >/dev/null

steps=12
# slow NAME: a run under the current slowdown must end with status 0 and every step.
slow() {
  local start status=0
  start=$(date +%s.%N)
  bash "$root/launch/mpirun.sh" --hostfile "$HOSTS_FILE" --threads 1 --electra "$electra" \
    -- pretrain --config "$root/configs/tiny.ini" --data "$work/data" --out "$work/$1" \
    --train-steps $steps --batch-size 4 --log-every 1 --eval-every 0 --save-every 10 \
    --eval-examples 16 --device cpu --peer-timeout 10 > "$work/$1.log" 2>&1 || status=$?
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
