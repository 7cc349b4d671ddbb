#!/usr/bin/env python3
"""A pair whose shared position rows are sinusoids (issue 27: can attention find neighbours sooner?).

Copies an exported pair (`electra export --out DIR`: DIR/discriminator, DIR/generator) and replaces
the position table both share by the Transformer's sinusoids (sin and cos of position / 10000^(2i/E)
in dimensions 2i and 2i+1), scaled to the spread of the initialisation (initializer_range), so that
neighbouring positions start alike and an offset is the same rotation everywhere; everything else
is kept. `electra pretrain --init-from OUT` trains from it.

  .venv/bin/python bench/sinusoid_positions.py --pair EXPORT --out DIR
"""
import argparse
import json
import math
import os
import shutil

import torch
from safetensors.torch import load_file, save_file

POSITION_ROWS = "electra.embeddings.position_embeddings.weight"


def sinusoids(positions, width, spread, base=10000.0):
    place = torch.arange(positions, dtype=torch.float64)[:, None]
    rate = torch.exp(-math.log(base) * torch.arange(0, width, 2, dtype=torch.float64) / width)
    rows = torch.zeros(positions, width, dtype=torch.float64)
    rows[:, 0::2] = torch.sin(place * rate)
    rows[:, 1::2] = torch.cos(place * rate)
    return (rows / rows.std() * spread).float()


def copy_with_sinusoid_positions(pair, out, tool, scale=1.0, base=10000.0):
    """Copies the exported pair to `out` (a new folder) with its shared position rows made
    sinusoids of spread scale x initializer_range; returns the table's (positions, width)."""
    if os.path.exists(out):
        raise SystemExit(f"{tool}: {out} exists; name a new folder")
    shutil.copytree(pair, out)
    for part in ("discriminator", "generator"):
        weights_file = os.path.join(out, part, "model.safetensors")
        config = json.load(open(os.path.join(out, part, "config.json")))
        weights = load_file(weights_file)
        positions, width = weights[POSITION_ROWS].shape
        weights[POSITION_ROWS] = sinusoids(positions, width, config["initializer_range"] * scale,
                                           base=base)
        save_file(weights, weights_file, metadata={"format": "pt"})
    return positions, width


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", required=True, help="electra export --out folder")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    positions, width = copy_with_sinusoid_positions(args.pair, args.out, "sinusoid_positions")
    print(f"sinusoid_positions: {args.out}: {positions} position rows of {width} as sinusoids")


if __name__ == "__main__":
    main()
