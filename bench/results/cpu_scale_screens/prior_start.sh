#!/usr/bin/env bash
# prior_start.sh NAME MODEL [PRETRAIN OPTIONS...]: the paper's start of a fresh pair (seed 1, the
# main job's shards), made by a one-step run at lr 1e-12 and exported to runs/prior/NAME-hf.
# set_disc_bias.py then sets its discriminator's output bias to the prior logit. Run from the
# repository root; ELECTRA_BINARY picks the binary (default build/app/electra).
set -euo pipefail
name=$1 model=$2; shift 2
electra=${ELECTRA_BINARY:-$PWD/build/app/electra}
mkdir -p runs/prior
$electra pretrain --config configs/tiny.ini --model "$model" --data runs/quickstart/shards \
  --threads 2 --seed 1 --word-rows-init random --output-bias-init zero --train-steps 1 \
  --warmup-steps 0 --learning-rate 1e-12 --eval-every 0 --out "runs/prior/$name-raw" "$@" \
  > "runs/prior/$name-raw.log" 2>&1
$electra export --checkpoint "runs/prior/$name-raw" --out "runs/prior/$name-hf" \
  >> "runs/prior/$name-raw.log" 2>&1
