#!/usr/bin/env bash
# Benchmark (not a test): is the training step slower than at an earlier commit? Builds REV's
# `electra` in a git worktree (kept in $ELECTRA_OLD_DIR, /tmp/electra-REV, for reruns), then runs
# `electra pretrain` of both, alternating, at global batch 32 x 128 on this machine: small as
# 1 process x 2 threads and as 2 MPI ranks x 1 thread, tiny as 1 x 2, ROUNDS times. REV runs as
# its own benchmarks ran it (its launch/env.sh sourced, when it has one); the working tree's
# build runs with nothing set. The figure of a run is its last train record. Prints one JSON
# object with every run, the ratio (this tree / REV) per pair and each case's geometric mean of
# them (a shared machine's noise is large: take several rounds).
# usage: bench/against_commit.sh REV [ROUNDS (3)] [STEPS_SMALL (20)] [STEPS_TINY (40)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:?usage: bench/against_commit.sh REV [ROUNDS] [STEPS_SMALL] [STEPS_TINY]}
rounds=${2:-3} small_steps=${3:-20} tiny_steps=${4:-40}
new=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
old_dir=${ELECTRA_OLD_DIR:-/tmp/electra-$(git -C "$root" rev-parse --short "$rev")}
data=${ELECTRA_BENCH_DATA:-$root/runs/quickstart/shards}
[[ -x $new ]] || { echo "against_commit: build this tree first (bash launch/build.sh)"; exit 1; }
if [[ ! -x $old_dir/build/app/electra ]]; then
  [[ -d $old_dir ]] || git -C "$root" worktree add --detach "$old_dir" "$rev" >/dev/null
  cmake -S "$old_dir" -B "$old_dir/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$old_dir/build" -j "$(nproc)" --target electra >/dev/null
fi
old=$old_dir/build/app/electra
if [[ ! -f $data/manifest.json ]]; then
  "$new" prepare --input "$root/data/sample" --out "$data" --seq-len 128 --shards 4 \
    --val-fraction 0.02 --overwrite >/dev/null
fi
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset OMP_WAIT_POLICY OPENBLAS_CORETYPE OMP_NUM_THREADS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
records=$work/records
run() {  # WHO MODEL LAYOUT STEPS
  local binary=$new out=$work/$1-$2-$3-$RANDOM n=$4 extra=()
  if [[ $1 == rev ]]; then binary=$old; fi
  "$binary" pretrain --help 2>/dev/null | grep -q -- '--device' && extra=(--device cpu)
  local common=(pretrain --model "$2" --data "$data" --train-steps "$n" --log-every $((n / 2))
                --eval-every 0 --save-every 0 --eval-examples 32 --warmup-steps 0 "${extra[@]}")
  (
    if [[ $1 == rev && -f $old_dir/launch/env.sh ]]; then source "$old_dir/launch/env.sh"; fi
    if [[ $3 == 1x2 ]]; then
      "$binary" "${common[@]}" --out "$out" --batch-size 32 --threads 2 >/dev/null 2>&1
    else
      mpirun --oversubscribe -np 2 "$binary" "${common[@]}" --out "$out" --batch-size 16 \
        --threads 1 >/dev/null 2>&1
    fi
  )
  echo "$1 $2 $3 $(grep '"kind":"train"' "$out/metrics.jsonl" | tail -1)" >> "$records"
}
for round in $(seq "$rounds"); do
  for case in "small 1x2 $small_steps" "small 2x1 $small_steps" "tiny 1x2 $tiny_steps"; do
    run rev $case
    run tree $case
  done
done
/usr/bin/python3 - "$records" "$rev" "$(git -C "$root" rev-parse --short HEAD)" <<'PY'
import json, math, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
rows = [line.split(" ", 3) for line in open(sys.argv[1]) if line.strip()]
layouts = {"1x2": "1 process x 2 threads", "2x1": "2 MPI ranks x 1 thread"}
runs, ratios, last = [], [], {}
for who, model, layout, record in rows:
    tps = round(json.loads(record)["tokens_per_s"], 1)
    runs.append({"build": sys.argv[2] if who == "rev" else "this tree (HEAD " + sys.argv[3] + ")",
                 "model": model, "layout": layouts[layout], "tokens_per_s": tps})
    if who == "rev":
        last[(model, layout)] = tps
    else:
        ratios.append({"model": model, "layout": layouts[layout],
                       "ratio": round(tps / last[(model, layout)], 2)})
means = {}
for r in ratios:
    means.setdefault((r["model"], r["layout"]), []).append(r["ratio"])
geomean = [{"model": m, "layout": l, "ratio_geomean": round(math.exp(sum(map(math.log, v)) / len(v)), 3),
            "pairs": len(v)} for (m, l), v in means.items()]
print(json.dumps({
    "benchmark": "electra pretrain step, this tree against an earlier commit, alternating, same run",
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform()},
    "config": {"global_batch": 32, "seq_length": 128, "dropout": 0.1},
    "environment": "this tree: nothing set; the commit: its launch/env.sh when it has one",
    "runs": runs, "ratios": ratios, "geomean": geomean}, indent=2))
PY
