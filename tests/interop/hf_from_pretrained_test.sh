#!/usr/bin/env bash
# HuggingFace transformers checks our files itself (PYTHON: the project's environment, with the
# pinned transformers): the HF fixture through electra (import-hf, export) loads with
# from_pretrained and reproduces the fixture's outputs (hf_from_pretrained.py); every fine-tuned
# head both ways, and models transformers saved, through score and evaluate (hf_interop.py).
# usage: hf_from_pretrained_test.sh ELECTRA FIXTURE_DIR WORK_DIR PYTHON TEST_DATA_DIR
set -euo pipefail
electra=$1 fixture=$2 work=$3 python=$4 test_data=$5
here=$(cd "$(dirname "$0")" && pwd)
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error
"$python" -c 'import transformers' ||
  { echo "$python has no transformers: run launch/setup.sh"; exit 1; }
rm -rf "$work" && mkdir -p "$work"
"$electra" import-hf --model "$fixture" --out "$work/run"
"$electra" export --checkpoint "$work/run" --out "$work/hf"
"$python" "$here/hf_from_pretrained.py" "$work/hf" "$fixture"
"$python" "$here/hf_interop.py" "$electra" "$fixture" "$test_data" "$work/interop"
