# What the multihost tests share (sourced after setting electra, root; needs hosts.sh's hosts):
#   test_job_setup COUNT      # hosts h1..hCOUNT up, $work, fail(), a corpus of COUNT shards
#   start_pretrain HOSTFILE RUN LOG STEPS PEER_TIMEOUT [VAR=VALUE ...] [-- OPTIONS...]
#                             # the tiny job, one rank per host, in the background ($launcher)
#   final_loss RUN STEPS      # the loss of the last train record of step STEPS
source "$root/tests/multihost/hosts.sh"

test_job_setup() {
  hosts_require
  hosts_up "$1"
  work=$HOSTS_DIR/work
  mkdir -p "$work"
  "$electra" prepare --input "$root/data/sample/mobydick.txt" --out "$work/data" --seq-len 64 \
    --shards "$1" --val-fraction 0.05 >/dev/null
}

fail() {
  echo "FAIL: $*"
  [[ -n ${launcher:-} ]] && kill -9 "$launcher" 2>/dev/null
  for log in "$work"/*.log; do [[ -f $log ]] && { echo "--- $log (tail)"; tail -n 25 "$log"; }; done
  exit 1
}

start_pretrain() {
  local hostfile=$1 run=$2 log=$3 steps=$4 peer_timeout=$5 environment=() options=()
  shift 5
  while [[ $# -gt 0 && $1 != -- ]]; do environment+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  options=("$@")
  env "${environment[@]}" bash "$root/launch/mpirun.sh" --hostfile "$hostfile" --threads 1 \
    --electra "$electra" -- pretrain --config "$root/configs/tiny.ini" --data "$work/data" \
    --out "$run" --train-steps "$steps" --batch-size 4 --log-every 1 --eval-every 0 \
    --save-every 10 --eval-examples 16 --device cpu --peer-timeout "$peer_timeout" \
    "${options[@]}" > "$log" 2>&1 &
  launcher=$!
}

final_loss() {
  grep "\"step\":$2," "$1/metrics.jsonl" | grep '"kind":"train"' | tail -n 1 |
    grep -oP '"loss":\K[^,]+'
}
