#!/usr/bin/env python3
"""How far pretraining has moved a discriminator's word embeddings, by how often each token occurs
in the pretraining corpus (issue 27: why a briefly pretrained encoder fine-tunes worse than random
weights).

For each exported pair (`electra export --checkpoint RUN --out DIR`: DIR/discriminator), and for
the same architecture at its initialisation (HuggingFace's, normal with std initializer_range),
print one JSON line with, per group of tokens (never in the corpus, 1-9 times, 10-999, 1,000 or
more):
- the group's size, and its share of the task text's tokens (--task files, read with the pair's
  vocabulary: what fine-tuning will look up),
- the mean norm of the raw embedding rows and the share of their squared norm that is common to
  the group (|mean row|^2 / mean |row|^2: about 0 for independent rows, 1 when every row is the
  same vector plus noise),
- the mean cosine between the group's tokens after the embedding layer (word + position 1 +
  segment 0, LayerNorm, projection): how alike the encoder's first layer sees them (about 0 at
  initialisation; near 1 when they are one token to it).

  .venv/bin/python bench/embedding_drift.py --data SHARDS [--task FILE ...] EXPORT [EXPORT ...]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from transformers import ElectraConfig, ElectraForPreTraining

from corpus_counts import special_ids, training_token_counts, vocabulary

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tokenizer"))
from reference_tokenize import bert_tokenizer  # noqa: E402

GROUPS = (("never", 0, 0), ("1-9", 1, 9), ("10-999", 10, 999), ("1000+", 1000, None))


def task_token_counts(files, vocab_file, vocab_size):
    """How often each token id occurs in the tasks' text (every tab- or space-separated field that
    is not a bare label), as the pair's WordPiece vocabulary splits it."""
    counts = np.zeros(vocab_size, dtype=np.int64)
    if not files:
        return counts
    tokenizer = bert_tokenizer(vocab_file, lowercase=True)
    for path in files:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            for line in f:
                text = line.split("\t")[0] if "\t" in line else line.split(" ")[0]
                for token_id in tokenizer.encode(text, add_special_tokens=False).ids:
                    counts[token_id] += 1
    return counts


@torch.no_grad()
def drift(model, counts, task_counts, tokens, rng):
    embeddings = model.electra.embeddings
    rows = embeddings.word_embeddings.weight.detach()
    vocab_size = rows.shape[0]
    counts = counts[:vocab_size]
    special = np.zeros(vocab_size, dtype=bool)
    special[special_ids(tokens)] = True
    cls_id = tokens.index("[CLS]")
    found = {}
    for name, low, high in GROUPS:
        members = np.flatnonzero((counts >= low) & (counts <= (high if high is not None else 1 << 62)) & ~special)
        if len(members) < 2:
            continue
        group = rows[torch.tensor(members)]
        common = float(group.mean(0).pow(2).sum() / group.pow(2).sum(1).mean())
        sample = torch.tensor(rng.choice(members, size=min(len(members), 2000), replace=False))
        ids = sample.view(-1, 1)
        seen = embeddings(input_ids=torch.cat([torch.full_like(ids, cls_id), ids], 1))[:, 1]
        if hasattr(model.electra, "embeddings_project"):
            seen = model.electra.embeddings_project(seen)
        unit = torch.nn.functional.normalize(seen, dim=1)
        cosine = unit @ unit.T
        n = len(sample)
        found[name] = {"tokens": int(len(members)),
                       "task_share": float(task_counts[members].sum() / max(task_counts.sum(), 1)),
                       "row_norm": float(group.norm(dim=1).mean()),
                       "common_share": round(common, 4),
                       "cosine_after_embedding_layer": round(float((cosine.sum() - n) / (n * (n - 1))), 4)}
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the prepared corpus the pairs were pretrained on")
    parser.add_argument("--task", action="append", default=[], help="a task file whose text is counted")
    parser.add_argument("--vocab", help="vocab.txt of the pairs (default: the first export's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("pairs", nargs="+", help="electra export --out folders")
    args = parser.parse_args()
    counts = training_token_counts(args.data)
    first = os.path.join(args.pairs[0], "discriminator")
    vocab = args.vocab or os.path.join(first, "vocab.txt")
    config = ElectraConfig.from_pretrained(first)
    task_counts = task_token_counts(args.task, vocab, config.vocab_size)
    torch.manual_seed(args.seed)
    models = [("initialisation", ElectraForPreTraining(config).eval())]
    models += [(pair, ElectraForPreTraining.from_pretrained(os.path.join(pair, "discriminator")).eval())
               for pair in args.pairs]
    for name, model in models:
        groups = drift(model, counts, task_counts, vocabulary(vocab), np.random.RandomState(args.seed))
        print(json.dumps({"model": name, "groups": groups}))


if __name__ == "__main__":
    main()
