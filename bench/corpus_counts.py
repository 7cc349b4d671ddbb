"""How often each token id occurs in a prepared corpus's training split (real tokens only):
the counts the issue-27 bench scripts group and initialise by."""
import json
import os

import h5py
import numpy as np


def training_shards(data):
    """(input_ids, real-token mask) of each training shard of `data` (an `electra prepare --out`
    folder), in the manifest's order."""
    manifest = json.load(open(os.path.join(data, "manifest.json")))
    for shard in manifest["shards"]:
        if shard["split"] == "train":
            with h5py.File(os.path.join(data, shard["file"]), "r") as f:
                yield f["input_ids"][:].astype(np.int64), f["input_mask"][:].astype(bool)


def training_token_counts(data, size=65536):
    """counts[id] over the training shards of `data` (an `electra prepare --out` folder)."""
    counts = np.zeros(max(size, 65536), dtype=np.int64)
    for ids, real in training_shards(data):
        counts += np.bincount(ids[real], minlength=len(counts))
    return counts[:size]


def vocabulary(vocab_file):
    """The tokens of a vocab.txt, in id order."""
    with open(vocab_file, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def special_ids(tokens):
    """Ids of the bracketed tokens ([PAD], [CLS], [unused0], ...): not words of the corpus."""
    return np.array([i for i, t in enumerate(tokens) if t.startswith("[") and t.endswith("]")], dtype=np.int64)


def ppmi_rows(data, size, window=2, contexts=5000, dims=64):
    """Count-based token vectors from the prepared corpus DATA (issue 27: what co-occurrence alone
    knows): each token's positive pointwise mutual information with the CONTEXTS most frequent
    tokens within WINDOW places of it, reduced by SVD to DIMS dimensions (U * sqrt(S)); rows of
    tokens the corpus never shows are zero."""
    counts = training_token_counts(data, size)
    seen = np.flatnonzero(counts)
    row = np.full(size, -1, dtype=np.int64)
    row[seen] = np.arange(len(seen))
    context_ids = np.argsort(-counts)[:contexts]
    column = np.full(size, -1, dtype=np.int64)
    column[context_ids] = np.arange(len(context_ids))
    pairs = []
    for ids, real in training_shards(data):
        for offset in range(1, window + 1):
            both = real[:, :-offset] & real[:, offset:]  # two real tokens OFFSET apart
            left, right = ids[:, :-offset][both], ids[:, offset:][both]
            for word, context in ((left, right), (right, left)):
                hit = column[context] >= 0
                pairs.append(row[word[hit]] * len(context_ids) + column[context[hit]])
    cells, n = np.unique(np.concatenate(pairs), return_counts=True)
    cooc = np.zeros((len(seen), len(context_ids)), dtype=np.float32)
    cooc.flat[cells] = n
    total = cooc.sum()
    expected = cooc.sum(axis=1, keepdims=True) * cooc.sum(axis=0, keepdims=True) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        ppmi = np.maximum(np.log(cooc / expected), 0)
    ppmi = np.nan_to_num(ppmi, nan=0.0, posinf=0.0, neginf=0.0)
    u, s, _ = np.linalg.svd(ppmi, full_matrices=False)
    out = np.zeros((size, dims))
    out[seen] = u[:, :dims] * np.sqrt(s[:dims])
    return out
