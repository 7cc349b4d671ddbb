#!/usr/bin/env bash
# Benchmark (not a test): tokenizer throughput on one core, electra vs HuggingFace's Rust
# tokenizer (PyPI tokenizers, the version pinned in launch/requirements.txt, run by the venv's
# Python) on the same decompressed State of the Union text in the same run, and `electra prepare`
# end to end. Prints one JSON object.
# usage: bench/tokenizer_bench.sh [SOTU_XZ]   (default ../shared/data/sotu.txt.xz)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ELECTRA_BUILD_DIR:-$root/build}
sotu_xz=${1:-$root/../shared/data/sotu.txt.xz}
work=$build/bench-work
mkdir -p "$work"
xz -dc "$sotu_xz" > "$work/sotu.txt"
expected=4cfc6aa9a132346e8ea186ad485b02e910dc04f73b5801fff31fcb04cd0d86f2
actual=$(sha256sum "$work/sotu.txt" | cut -d' ' -f1)
[[ $actual == "$expected" ]] || { echo "sotu.txt: sha256 $actual, expected $expected" >&2; exit 1; }
python=${ELECTRA_PYTHON:-$root/.venv/bin/python}
"$python" -c 'import tokenizers' 2>/dev/null ||
  { echo "tokenizer_bench: $python cannot import tokenizers: run bash launch/setup.sh" >&2; exit 1; }
vocab=$root/data/vocab/bert-base-uncased-vocab.txt
ours=$(taskset -c 0 "$build/bench/tokenizer_throughput" "$vocab" "$work/sotu.txt" 3)
theirs=$(RAYON_NUM_THREADS=1 taskset -c 0 "$python" "$root/bench/hf_tokenizer_throughput.py" "$vocab" "$work/sotu.txt" 3)
rm -rf "$work/prepared"
start=$(date +%s.%N)
taskset -c 0 "$build/app/electra" prepare --input "$work/sotu.txt" --out "$work/prepared" \
  --shards 4 --seq-len 128 > "$work/prepare.log"
end=$(date +%s.%N)
examples=$(python3 -c "import json;print(json.load(open('$work/prepared/manifest.json'))['preparation']['stats']['examples'])")
python3 - "$ours" "$theirs" "$start" "$end" "$examples" "$(stat -c %s "$work/sotu.txt")" <<'PY'
import json, platform, sys, os
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
start, end, examples, size = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
print(json.dumps({
  "benchmark": "tokenizer",
  "config": {"text": "sotu.txt (decompressed sotu.txt.xz)", "vocab": "bert-base-uncased", "lowercase": True,
             "threads": 1, "pinned_core": 0, "passes": "best of 3", "reference": "PyPI tokenizers " + theirs["tokenizers"]},
  "machine": {"cpu": cpu, "cores": os.cpu_count(), "system": platform.platform()},
  "electra": ours, "huggingface_rust": theirs,
  "same_token_count": ours["tokens"] == theirs["tokens"],
  "speedup_vs_huggingface": ours["mb_per_s"] / theirs["mb_per_s"],
  "prepare": {"seconds": end - start, "mb_per_s": size / 1e6 / (end - start), "examples": examples,
              "seq_len": 128, "shards": 4, "threads": 1}}, indent=2))
PY
