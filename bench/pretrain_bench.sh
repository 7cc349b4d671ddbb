#!/usr/bin/env bash
# Benchmark (not a test): tokens/s of the whole training step as `electra pretrain` runs it
# (batch loading, masking, generator, sampling, discriminator, backward, gradient averaging,
# clipping, AdamW) for the tiny and small configs at global batch 32 x 128, as 1 process x 2
# threads and as 2 MPI ranks x 1 thread, with model FLOP/s (app/train/step_flops). The figure is
# the last train record's tokens/s: the steps after the first half (warm caches and allocator).
# Compared with DESIGN.md section 7's reference (PyTorch eager, same LibTorch 1.13 + OpenBLAS,
# ELECTRA-Small 32 x 128, 2 threads: about 800 tokens/s; measured there, not in this run: this
# machine has no PyTorch for Python). Prints one JSON object.
# usage: bench/pretrain_bench.sh [STEPS_SMALL (10)] [STEPS_TINY (40)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/launch/env.sh"
electra=${ELECTRA_BUILD_DIR:-$root/build}/app/electra
data=${ELECTRA_BENCH_DATA:-$root/runs/quickstart/shards}
if [[ ! -f $data/manifest.json ]]; then
  "$electra" prepare --input "$root/data/sample" --out "$data" --seq-len 128 --shards 4 \
    --val-fraction 0.02 --overwrite >/dev/null
fi
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A steps=([small]=${1:-10} [tiny]=${2:-40})
records=()
for model in tiny small; do
  n=${steps[$model]}
  common=(pretrain --model "$model" --data "$data" --train-steps "$n" --log-every $((n / 2))
          --eval-every 0 --save-every 0 --eval-examples 32 --warmup-steps 0)
  OMP_NUM_THREADS=2 "$electra" "${common[@]}" --out "$work/$model-1x2" --batch-size 32 \
    --threads 2 >/dev/null
  mpirun --oversubscribe -np 2 -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY "$electra" "${common[@]}" \
    --out "$work/$model-2x1" --batch-size 16 --threads 1 >/dev/null
  for layout in 1x2 2x1; do
    records+=("$model $layout $(grep '"kind":"train"' "$work/$model-$layout/metrics.jsonl" | tail -1)")
  done
done
printf '%s\n' "${records[@]}" | /usr/bin/python3 -c '
import json, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
results = []
for line in sys.stdin:
    model, layout, record = line.split(" ", 2)
    r = json.loads(record)
    results.append({"model": model,
                    "layout": {"1x2": "1 process x 2 threads", "2x1": "2 MPI ranks x 1 thread"}[layout],
                    "global_batch": 32, "seq_length": 128,
                    "tokens_per_s": round(r["tokens_per_s"], 1),
                    "model_gflop_per_s": round(r["model_flop_per_s"] / 1e9, 2)})
reference = 800.0
small = {x["layout"]: x["tokens_per_s"] for x in results if x["model"] == "small"}
print(json.dumps({
    "benchmark": "pretrain training step (electra pretrain)",
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform()},
    "results": results,
    "reference": {"what": "ELECTRA-Small joint step 32 x 128, PyTorch eager from Python, LibTorch 1.13 + OpenBLAS, 2 threads",
                  "tokens_per_s": reference, "source": "DESIGN.md section 7 (not measured in this run)"},
    "small_vs_reference": {k: round(v / reference, 2) for k, v in small.items()},
    "target_ratio": 1.3}, indent=2))
'
