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
