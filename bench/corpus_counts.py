"""How often each token id occurs in a prepared corpus's training split (real tokens only):
the counts the issue-27 bench scripts group and initialise by."""
import json
import os

import h5py
import numpy as np


def training_token_counts(data, size=65536):
    """counts[id] over the training shards of `data` (an `electra prepare --out` folder)."""
    manifest = json.load(open(os.path.join(data, "manifest.json")))
    counts = np.zeros(max(size, 65536), dtype=np.int64)
    for shard in manifest["shards"]:
        if shard["split"] != "train":
            continue
        with h5py.File(os.path.join(data, shard["file"]), "r") as f:
            ids = f["input_ids"][:].astype(np.int64)
            real = f["input_mask"][:].astype(bool)
            counts += np.bincount(ids[real], minlength=len(counts))
    return counts[:size]


def vocabulary(vocab_file):
    """The tokens of a vocab.txt, in id order."""
    with open(vocab_file, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def special_ids(tokens):
    """Ids of the bracketed tokens ([PAD], [CLS], [unused0], ...): not words of the corpus."""
    return np.array([i for i, t in enumerate(tokens) if t.startswith("[") and t.endswith("]")], dtype=np.int64)
