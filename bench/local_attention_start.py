#!/usr/bin/env python3
"""A pair whose first layers start with heads that read the previous and the next token (issue 27).

At CPU size no layer of either network learns to attend to its neighbours in 2,000 steps (README,
"Why the discriminator collapses"), so once the generator samples by frequency the discriminator
has nothing to read. This start gives it neighbours from step 0: it copies an exported pair
(`electra export --out DIR`), makes the shared position rows sinusoids (bench/sinusoid_positions.py),
and in each of the first --layers layers of both networks sets every head's query and key so that
the head attends to the token one place before or after (alternating, head by head): from the
layer's own inputs on --data (mean over sequences at each place = the position's part u_t; the
rest, the words' part, with covariance C), the bilinear form C^-1 (sum_t u_t u_(t+offset)^T) C^-1,
cut to the head's width and scaled until the head puts --target of its attention on that
neighbour, or as much as the words' part lets it (0.32-0.36 in the tiny discriminator with
--position-scale 3 --position-base 128). Values, outputs and all other weights are kept.
`electra pretrain --init-from OUT` trains from it. Measured: the heads do not survive training at
5e-4 (README, "Why the discriminator collapses"). Known simplification: the fit and the reported
share take every place of the --sequences first training sequences, padding included (on the
main job's shards 7 of the 64 are shorter than 128 tokens, 119.4 real tokens on average).

  cd bench && ../.venv/bin/python local_attention_start.py --pair EXPORT --data SHARDS --out DIR
"""
import argparse
import json
import os

import h5py
import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import ElectraForMaskedLM, ElectraForPreTraining

from sinusoid_positions import copy_with_sinusoid_positions


def training_sequences(data, count):
    manifest = json.load(open(os.path.join(data, "manifest.json")))
    shard = next(s for s in manifest["shards"] if s["split"] == "train")
    with h5py.File(os.path.join(data, shard["file"]), "r") as f:
        return {"input_ids": torch.tensor(f["input_ids"][:count].astype(np.int64)),
                "attention_mask": torch.tensor(f["input_mask"][:count].astype(np.int64)),
                "token_type_ids": torch.tensor(f["segment_ids"][:count].astype(np.int64))}


def neighbour_share(scores, offset):
    """Mean attention weight on the token `offset` places away, over the queries that have one."""
    attention = scores.softmax(-1)
    places = scores.shape[-1]
    query = torch.arange(max(0, -offset), min(places, places - offset))
    return float(attention[:, query, query + offset].mean())


def fit_head(hidden, offset, width, target):
    """Query and key rows [width, hidden] whose head attends `offset` places away."""
    place_part = hidden.mean(0)
    place_part = place_part - place_part.mean(0)
    places = place_part.shape[0]
    query = torch.arange(max(0, -offset), min(places, places - offset))
    # LDA-like: the positions' part seen through the inverse of what the words add around it, so
    # that neighbouring places (whose parts are alike) are told apart.
    words_part = (hidden - hidden.mean(0)).reshape(-1, hidden.shape[-1])
    spread = words_part.T @ words_part / words_part.shape[0]
    spread += 1e-3 * spread.trace() / spread.shape[0] * torch.eye(spread.shape[0], dtype=spread.dtype)
    unmix = torch.linalg.inv(spread)
    form = unmix @ place_part[query].T @ place_part[query + offset] @ unmix
    u, s, vt = torch.linalg.svd(form)
    root = s[:width].sqrt()
    query_rows, key_rows = root[:, None] * u[:, :width].T, root[:, None] * vt[:width]
    raw = hidden @ query_rows.T @ key_rows @ hidden.transpose(1, 2)
    # The smallest gain that reaches the target, else the one that comes closest.
    gains = [4.0**k for k in range(-8, 24)]
    shares = [neighbour_share(raw * g, offset) for g in gains]
    best = next((i for i, share in enumerate(shares) if share >= target), int(np.argmax(shares)))
    low, high = (gains[best - 1] if best > 0 else 0.0), gains[best]
    if shares[best] >= target:
        for _ in range(40):
            middle = (low + high) / 2
            low, high = (middle, high) if neighbour_share(raw * middle, offset) < target else (low, middle)
    gain = (high * width**0.5) ** 0.5
    return gain * query_rows, gain * key_rows, neighbour_share(raw * high, offset)


def set_local_heads(model, inputs, layers, target):
    config = model.config
    width = config.hidden_size // config.num_attention_heads
    report = []
    for layer_index in range(layers):
        with torch.no_grad():
            hidden = model.electra(**inputs, output_hidden_states=True).hidden_states[layer_index]
        attention = model.electra.encoder.layer[layer_index].attention.self
        for head in range(config.num_attention_heads):
            offset = -1 if (layer_index * config.num_attention_heads + head) % 2 == 0 else 1
            query_rows, key_rows, share = fit_head(hidden.double(), offset, width, target)
            rows = slice(head * width, (head + 1) * width)
            with torch.no_grad():
                attention.query.weight[rows] = query_rows.float()
                attention.key.weight[rows] = key_rows.float()
                attention.query.bias[rows] = 0
                attention.key.bias[rows] = 0
            report.append({"layer": layer_index + 1, "head": head + 1, "offset": offset,
                           "share_on_neighbour": round(share, 3)})
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", required=True, help="electra export --out folder")
    parser.add_argument("--data", required=True, help="prepared corpus (electra prepare --out)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--target", type=float, default=0.5)
    parser.add_argument("--position-scale", type=float, default=1.0,
                        help="the position rows' spread, in units of initializer_range")
    parser.add_argument("--position-base", type=float, default=10000.0,
                        help="the sinusoids' longest wavelength / 2 pi")
    parser.add_argument("--sequences", type=int, default=64)
    args = parser.parse_args()
    copy_with_sinusoid_positions(args.pair, args.out, "local_attention_start",
                                 scale=args.position_scale, base=args.position_base)
    inputs = training_sequences(args.data, args.sequences)
    for part, kind in (("discriminator", ElectraForPreTraining), ("generator", ElectraForMaskedLM)):
        folder = os.path.join(args.out, part)
        model = kind.from_pretrained(folder, attn_implementation="eager").eval()
        report = set_local_heads(model, inputs, args.layers, args.target)
        weights = load_file(os.path.join(folder, "model.safetensors"))
        for name, value in model.state_dict().items():
            if ".attention.self." in name and name in weights:
                weights[name] = value.contiguous()
        save_file(weights, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        print(json.dumps({"part": part, "heads": report}))


if __name__ == "__main__":
    main()
