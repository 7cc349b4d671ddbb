#!/usr/bin/env python3
"""Copies an exported pair with its discriminator's output bias at the prior logit log(p / (1 - p)).

  .venv/bin/python set_disc_bias.py EXPORT OUT P   (OUT a new folder; P the replaced fraction)
"""
import math
import os
import shutil
import sys

from safetensors.torch import load_file, save_file

BIAS = "discriminator_predictions.dense_prediction.bias"


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.strip())
    src, out, p = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if not 0 < p < 1:
        raise SystemExit(f"set_disc_bias: P must be in (0, 1), got {p}")
    if os.path.exists(out):
        raise SystemExit(f"set_disc_bias: {out} exists; name a new folder")
    shutil.copytree(src, out)
    weights_file = os.path.join(out, "discriminator", "model.safetensors")
    weights = load_file(weights_file)
    weights[BIAS].fill_(math.log(p / (1 - p)))
    save_file(weights, weights_file, metadata={"format": "pt"})
    print(f"set_disc_bias: {out}: {BIAS} = {weights[BIAS].item():.4f}")


if __name__ == "__main__":
    main()
