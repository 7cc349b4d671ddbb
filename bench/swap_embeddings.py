#!/usr/bin/env python3
"""Which part of a pretrained discriminator helps or hurts fine-tuning: its embeddings or its
encoder (issue 27).

Writes a HuggingFace discriminator (config.json, model.safetensors, vocab.txt) whose embedding
layer (word, position and segment embeddings, their LayerNorm and projection; --part words: the
word rows only, --part rest: all but them) comes from one source and whose encoder layers (and the
rest) come from another; each source is an exported discriminator or
`random` (HuggingFace's initialisation of the same architecture, seeded). With --rare-below N
--data SHARDS, only the word rows of tokens seen fewer than N times in that corpus's training split
are changed (--rare random: fresh rows as at initialisation; --rare recentred: the rows less their
common mean, what sets them apart kept). `electra sweep --checkpoints DIR,...` fine-tunes the
results side by side.

  .venv/bin/python bench/swap_embeddings.py --embeddings EXPORT|random --encoder EXPORT|random \
      --config-from EXPORT --out DIR [--seed 0] [--rare-below N --rare random|recentred --data SHARDS]
where EXPORT is `electra export --out` DIR/discriminator.
"""
import argparse
import os
import shutil

import torch
from transformers import ElectraConfig, ElectraForPreTraining

from corpus_counts import special_ids, training_token_counts, vocabulary

EMBEDDING_PREFIXES = ("electra.embeddings.", "electra.embeddings_project.")


def load(source, config, seed):
    if source == "random":
        torch.manual_seed(seed)
        return ElectraForPreTraining(config)
    return ElectraForPreTraining.from_pretrained(source)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", required=True, help="an exported discriminator, or random")
    parser.add_argument("--encoder", required=True, help="an exported discriminator, or random")
    parser.add_argument("--config-from", required=True, help="the exported discriminator whose config and vocab.txt to use")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=("all", "words", "rest"), default="all",
                        help="what --embeddings gives: the whole embedding layer, the word rows only, or all but them")
    parser.add_argument("--rare-below", type=int, default=0, help="change only rows seen fewer times (needs --data)")
    parser.add_argument("--rare", choices=("random", "recentred"), default="random")
    parser.add_argument("--data", help="the prepared corpus whose token counts --rare-below reads")
    args = parser.parse_args()
    if args.rare_below and not args.data:
        parser.error("--rare-below needs --data")
    if args.rare_below and args.embeddings != args.encoder:
        parser.error("--rare-below changes one model's rows: give the same export as --embeddings and --encoder")
    config = ElectraConfig.from_pretrained(args.config_from)
    embeddings = load(args.embeddings, config, args.seed).state_dict()
    model = load(args.encoder, config, args.seed + 1)
    state = model.state_dict()
    words = "electra.embeddings.word_embeddings.weight"
    for name in state:
        if name.startswith(EMBEDDING_PREFIXES) and (args.part == "all" or (name == words) == (args.part == "words")):
            state[name] = embeddings[name]
    if args.rare_below:
        name = "electra.embeddings.word_embeddings.weight"
        rows = state[name].clone()
        counts = training_token_counts(args.data, rows.shape[0])
        rare = torch.tensor(counts < args.rare_below)
        rare[special_ids(vocabulary(os.path.join(args.config_from, "vocab.txt")))] = False
        if args.rare == "random":
            rows[rare] = load("random", config, args.seed).state_dict()[name][rare]
        else:
            rows[rare] = rows[rare] - rows[rare].mean(0)
        state[name] = rows
    model.load_state_dict(state)
    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    shutil.copy(os.path.join(args.config_from, "vocab.txt"), tmp)
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(tmp, args.out)


if __name__ == "__main__":
    main()
