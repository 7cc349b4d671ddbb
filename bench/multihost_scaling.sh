#!/usr/bin/env bash
# Benchmark (not a test): data-parallel scaling across hosts. `electra pretrain` on 1 and 2 test
# hosts (tests/multihost/hosts.sh: network namespaces on a bridge, each on its own core, TCP
# between them; 1 rank x 1 thread per host, batch 8 x 128 per rank) for the tiny and small
# models, the links limited with tc tbf to 1 Gbit/s and 10 Gbit/s, gradients reduced in fp32 or
# bf16 by the bucketed reducer that overlaps backward (3 buckets: --bucket-mb 25, the default, for
# small's 56 MB of gradients; 4 for tiny's 12 MB, which 25 would leave in one), and, to see what
# the overlap hides, in one bucket started after backward (--bucket-mb 4096: nothing overlapped).
# Each figure is the best of REPEATS runs (tokens/s of the last train record: the steps after the
# first half), the 1-host figure the best of its runs before and after. Efficiency =
# tokens/s on 2 hosts / (2 x tokens/s on 1 host), and hidden = the share of the exposed
# communication time that the overlap removes: (t_one_bucket - t_overlapped) / (t_one_bucket -
# t_1host), per-step times at the same per-rank batch. Prints one JSON object per line, then a
# Markdown table. Needs root (namespaces). About 15 minutes on 2 cores.
# usage: bench/multihost_scaling.sh [STEPS_TINY (40)] [STEPS_SMALL (12)] [REPEATS (2)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
steps_tiny=${1:-40} steps_small=${2:-12} repeats=${3:-2}
for value in "$steps_tiny" "$steps_small"; do
  [[ $value =~ ^[1-9][0-9]*$ && $value -ge 4 ]] ||
    { echo "multihost_scaling: steps must be whole numbers >= 4, not '$value'" >&2; exit 2; }
done
[[ $repeats =~ ^[1-9][0-9]*$ ]] ||
  { echo "multihost_scaling: REPEATS must be a positive whole number, not '$repeats'" >&2; exit 2; }
[[ -x $electra ]] || { echo "multihost_scaling: build electra first (launch/build.sh)" >&2; exit 1; }
source "$root/tests/multihost/hosts.sh"
hosts_require
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
hosts_up 2
work=$HOSTS_DIR/work
mkdir -p "$work"
"$electra" prepare --input "$root/data/sample" --out "$work/data" --seq-len 128 --shards 2 \
  --val-fraction 0.02 >/dev/null
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
results=$work/results.jsonl

# best MODEL HOSTS RATE DTYPE BUCKET_MB: the best tokens/s of REPEATS runs.
best() {
  local figure top=0
  for _ in $(seq "$repeats"); do
    figure=$(run "$@")
    top=$(python3 -c "print(max($top, $figure))")
  done
  echo "$top"
}

# run MODEL HOSTS RATE DTYPE BUCKET_MB: one run; prints its tokens/s.
run() {
  local model=$1 hosts=$2 rate=$3 dtype=$4 bucket=$5 steps hostfile out
  steps=$([[ $model == tiny ]] && echo "$steps_tiny" || echo "$steps_small")
  hostfile=$([[ $hosts == 1 ]] && hosts_file h1 || hosts_file h1 h2)
  links_rate "$rate"
  out=$work/$model-$hosts-$rate-$dtype-$bucket-$RANDOM
  bash "$root/launch/mpirun.sh" --hostfile "$hostfile" --threads 1 --electra "$electra" \
    -- pretrain --model "$model" --data "$work/data" --out "$out" --train-steps "$steps" \
    --batch-size 8 --log-every $((steps / 2)) --eval-every 0 --save-every 0 --eval-examples 16 \
    --warmup-steps 0 --device cpu --reduce-dtype "$dtype" --bucket-mb "$bucket" \
    > "$out.log" 2>&1 || { echo "multihost_scaling: run $out failed:" >&2; tail "$out.log" >&2; exit 1; }
  grep '"kind":"train"' "$out/metrics.jsonl" | tail -n 1 | grep -oP '"tokens_per_s":\K[0-9.e+-]+'
}

for model in tiny small; do
  bucket=$([[ $model == tiny ]] && echo 4 || echo 25)
  one=$(best "$model" 1 none fp32 "$bucket")
  rows=()
  for rate in 1gbit 10gbit; do
    for dtype in fp32 bf16; do
      rows+=("$rate $dtype $(best "$model" 2 "$rate" "$dtype" "$bucket") $(best "$model" 2 "$rate" "$dtype" 4096)")
    done
  done
  one=$(python3 -c "print(max($one, $(best "$model" 1 none fp32 "$bucket")))")
  for row in "${rows[@]}"; do
    read -r rate dtype overlapped one_bucket <<< "$row"
    python3 - "$model" "$rate" "$dtype" "$one" "$overlapped" "$one_bucket" "$cpu" "$bucket" \
      "$repeats" >> "$results" <<'EOF'
import json, sys
model, rate, dtype = sys.argv[1:4]
one, overlapped, one_bucket = map(float, sys.argv[4:7])
bucket, repeats = float(sys.argv[8]), int(sys.argv[9])
tokens = 8 * 128  # per rank and step
t1, t2, tb = tokens / one, 2 * tokens / overlapped, 2 * tokens / one_bucket
hidden = (tb - t2) / (tb - t1) if tb > t1 else None
print(json.dumps({"model": model, "link": rate, "reduce_dtype": dtype, "bucket_mb": bucket,
                  "best_of": repeats, "ranks_per_host": 1,
                  "threads_per_rank": 1, "batch_per_rank": 8, "seq_len": 128,
                  "tokens_per_s_1host": round(one, 1), "tokens_per_s_2hosts": round(overlapped, 1),
                  "tokens_per_s_2hosts_one_bucket": round(one_bucket, 1),
                  "efficiency": round(overlapped / (2 * one), 3),
                  "efficiency_one_bucket": round(one_bucket / (2 * one), 3),
                  "hidden_fraction": None if hidden is None else round(hidden, 2),
                  "machine": sys.argv[7] + ", test hosts as network namespaces"}))
EOF
    tail -n 1 "$results"
  done
done
links_rate none
echo
echo "| model | link | all-reduce | buckets of | tokens/s, 1 host | 2 hosts | efficiency | one bucket after backward | hidden by the overlap |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
python3 - "$results" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    hidden = "-" if r["hidden_fraction"] is None else f'{100 * r["hidden_fraction"]:.0f}%'
    print(f'| {r["model"]} | {r["link"]} | {r["reduce_dtype"]} | {r["bucket_mb"]:g} MB | {r["tokens_per_s_1host"]:.0f} | '
          f'{r["tokens_per_s_2hosts"]:.0f} | {100 * r["efficiency"]:.1f}% | '
          f'{r["tokens_per_s_2hosts_one_bucket"]:.0f} ({100 * r["efficiency_one_bucket"]:.1f}%) | {hidden} |')
EOF
