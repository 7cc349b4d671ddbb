#!/usr/bin/env bash
# Benchmark (not a test): tokens/s of the whole training step as `electra pretrain` runs it
# (batch loading, masking, generator, sampling, discriminator, backward, gradient averaging,
# clipping, AdamW) at global batch 32 x 128, side by side in this run with the anchor in
# ../shared/bench/torch_cpu_electra.py: the same ELECTRA-Small joint step in PyTorch eager from
# Python on the same LibTorch (the project's .venv: the torch wheel electra is built against),
# 2 threads, dropout 0.1 on both sides. Nothing is set in the environment for electra; the anchor
# runs in each round under the OpenMP settings a PyTorch user tunes (as installed; its 2 threads
# pinned to cores, OMP_PROC_BIND=close OMP_PLACES=cores; pinned and OMP_WAIT_POLICY=PASSIVE) and
# its best of them is the round's figure. The two alternate, ROUNDS times, and the ratio is taken
# per round. Also the tiny config, and 2 MPI ranks x 1 thread, for ours. The figure of a run is its last train record (the steps after the first
# half: warm caches and allocator). Prints one JSON object.
# usage: bench/pretrain_bench.sh [STEPS_SMALL (10)] [STEPS_TINY (40)] [ROUNDS (2)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
anchor=${ELECTRA_ANCHOR:-$root/../shared/bench/torch_cpu_electra.py}
data=${ELECTRA_BENCH_DATA:-$root/runs/quickstart/shards}
[[ -f $anchor ]] || { echo "pretrain_bench: no anchor at $anchor (../shared/bench)"; exit 1; }
python=${ELECTRA_PYTHON:-$root/.venv/bin/python}
"$python" -c 'import torch' 2>/dev/null ||
  { echo "pretrain_bench: $python has no torch: run launch/setup.sh"; exit 1; }
if [[ ! -f $data/manifest.json ]]; then
  "$electra" prepare --input "$root/data/sample" --out "$data" --seq-len 128 --shards 4 \
    --val-fraction 0.02 --overwrite >/dev/null
fi
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Nothing by hand: not what a shell may have set either.
unset OMP_WAIT_POLICY OMP_PROC_BIND OMP_PLACES OPENBLAS_CORETYPE OMP_NUM_THREADS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
small_steps=${1:-10} tiny_steps=${2:-40} rounds=${3:-2}
records=$work/records
ours() {  # MODEL LAYOUT STEPS TAG
  local n=$3 out=$work/$1-$2-$4
  local common=(pretrain --model "$1" --data "$data" --train-steps "$n" --log-every $((n / 2))
                --eval-every 0 --save-every 0 --eval-examples 32 --warmup-steps 0 --device cpu)
  if [[ $2 == 1x2 ]]; then
    "$electra" "${common[@]}" --out "$out" --batch-size 32 --threads 2 >/dev/null 2>&1
  else
    mpirun --oversubscribe -np 2 "$electra" "${common[@]}" --out "$out" --batch-size 16 \
      --threads 1 >/dev/null 2>&1
  fi
  echo "ours $1 $2 $(grep '"kind":"train"' "$out/metrics.jsonl" | tail -1)" >> "$records"
}
for round in $(seq "$rounds"); do
  ours small 1x2 "$small_steps" "r$round"
  for setting in "as-installed" "pinned OMP_PROC_BIND=close OMP_PLACES=cores" \
                 "pinned+passive OMP_PROC_BIND=close OMP_PLACES=cores OMP_WAIT_POLICY=PASSIVE"; do
    read -r name variables <<< "$setting"
    echo "anchor small 1x2 r$round $name $(env $variables "$python" "$anchor" small 32 128 5 2 2>/dev/null |
      tail -1)" >> "$records"
  done
done
ours small 2x1 "$small_steps" r1
ours tiny 1x2 "$tiny_steps" r1
ours tiny 2x1 "$tiny_steps" r1
"$python" - "$records" <<'PY'
import json, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
layouts = {"1x2": "1 process x 2 threads", "2x1": "2 MPI ranks x 1 thread"}
results, ours_small, anchor_small = [], [], {}
for line in open(sys.argv[1]):
    if not line.strip(): continue
    who, model, layout, rest = line.split(" ", 3)
    if who == "anchor": round_, setting, rest = rest.split(" ", 2)
    r = json.loads(rest)
    if who == "ours":
        results.append({"impl": "electra pretrain", "model": model, "layout": layouts[layout],
                        "global_batch": 32, "seq_length": 128, "tokens_per_s": round(r["tokens_per_s"], 1),
                        "model_gflop_per_s": round(r["model_flop_per_s"] / 1e9, 2)})
        if model == "small" and layout == "1x2": ours_small.append(r["tokens_per_s"])
    else:
        results.append({"impl": "PyTorch eager (../shared/bench/torch_cpu_electra.py)", "model": model,
                        "layout": layouts[layout], "round": round_, "openmp": setting,
                        "global_batch": r["batch"], "seq_length": r["seq"],
                        "tokens_per_s": r["tokens_per_s"], "dropout": r["dropout"], "torch": r["torch"]})
        anchor_small[round_] = max(anchor_small.get(round_, 0), r["tokens_per_s"])
ratios = [round(o / a, 2) for o, a in zip(ours_small, anchor_small.values())]
print(json.dumps({
    "benchmark": "pretrain training step (electra pretrain) against PyTorch eager, same run",
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform()},
    "environment": {"electra": "nothing set (OMP_*, OPENBLAS_CORETYPE unset)",
                    "anchor": "best per round of: as installed; pinned (OMP_PROC_BIND=close OMP_PLACES=cores); "
                              "pinned + OMP_WAIT_POLICY=PASSIVE"},
    "anchor_best_small_1x2_per_round": list(anchor_small.values()),
    "results": results,
    "small_1x2_ratio_per_round": ratios,
    "target_ratio": 1.3}, indent=2))
PY
