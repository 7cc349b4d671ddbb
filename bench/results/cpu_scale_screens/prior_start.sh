#!/usr/bin/env bash
# make_start.sh NAME MODEL EXTRA...: a one-step lr-1e-12 start of the paper's init, exported, its
# discriminator's output bias set to the prior logit.
set -euo pipefail
name=$1 model=$2; shift 2
E=$PWD/runs/electra-prior
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
$E pretrain --config configs/tiny.ini --model $model --data runs/quickstart/shards --threads 2 --seed 1 \
  --word-rows-init random --output-bias-init zero --train-steps 1 --warmup-steps 0 --learning-rate 1e-12 \
  --eval-every 0 --out runs/prior/$name-raw "$@" > runs/prior/$name-raw.log 2>&1
$E export --checkpoint runs/prior/$name-raw --out runs/prior/$name-hf >> runs/prior/$name-raw.log 2>&1
