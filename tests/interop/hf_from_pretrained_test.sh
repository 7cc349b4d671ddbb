#!/usr/bin/env bash
# Exports the HF fixture through electra (import-hf, export) and loads the result with
# transformers' from_pretrained (hf_from_pretrained.py); skipped (77) without transformers.
# usage: hf_from_pretrained_test.sh ELECTRA FIXTURE_DIR WORK_DIR
set -euo pipefail
electra=$1 fixture=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
python3 -c 'import transformers' 2>/dev/null || { echo "skipped: transformers is not installed"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
"$electra" import-hf --model "$fixture" --out "$work/run"
"$electra" export --checkpoint "$work/run" --out "$work/hf"
python3 "$here/hf_from_pretrained.py" "$work/hf" "$fixture"
