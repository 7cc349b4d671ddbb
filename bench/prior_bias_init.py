#!/usr/bin/env python3
"""A freshly initialised ELECTRA pair whose generator's output bias starts at the corpus's log
unigram frequencies (issue 27: where the unigram prior is learnt).

With every output bias at zero, the generator first learns the unigram distribution; Adam moves
each of a word row's E coordinates about as far per step as the bias's one, so most of that prior
ends up in the word rows as one shared "frequent" direction (and its opposite for rare tokens), which
the embedding LayerNorm then lets dominate what tells tokens apart. Starting the bias at the prior
leaves the rows only what the context adds. Writes an HF pair (discriminator/ and generator/ with
the embeddings shared, as `electra export` writes) for `electra pretrain --init-from DIR`; every
other weight as HuggingFace initialises it (normal, std initializer_range), seeded.

  .venv/bin/python bench/prior_bias_init.py --like EXPORT --data SHARDS --out DIR [--seed 0]
where EXPORT is an `electra export --out` folder of the same sizes (its config.json files and
vocab.txt are used).
"""
import argparse
import json
import os
import shutil

import numpy as np
import torch
from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

from corpus_counts import training_token_counts

NEVER_MASKED = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--like", required=True, help="an electra export folder of the sizes wanted")
    parser.add_argument("--data", required=True, help="the prepared corpus to be pretrained on")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    d_config = ElectraConfig.from_pretrained(os.path.join(args.like, "discriminator"))
    g_config = ElectraConfig.from_pretrained(os.path.join(args.like, "generator"))
    vocab_file = os.path.join(args.like, "discriminator", "vocab.txt")
    vocab = [line.rstrip("\n") for line in open(vocab_file, encoding="utf-8")]
    counts = training_token_counts(args.data, g_config.vocab_size).astype(np.float64)
    for token in NEVER_MASKED:  # never a masked position's original: no mass
        if token in vocab:
            counts[vocab.index(token)] = 0
    # Add-one smoothing: a token the corpus never shows is unlikely, not impossible.
    prior = np.log((counts + 1) / (counts.sum() + len(counts)))
    torch.manual_seed(args.seed)
    discriminator = ElectraForPreTraining(d_config)
    generator = ElectraForMaskedLM(g_config)
    generator.electra.embeddings.load_state_dict(discriminator.electra.embeddings.state_dict())
    with torch.no_grad():
        generator.electra.embeddings.word_embeddings.weight[d_config.pad_token_id].zero_()
        discriminator.electra.embeddings.word_embeddings.weight[d_config.pad_token_id].zero_()
        generator.generator_lm_head.bias.copy_(torch.tensor(prior, dtype=torch.float32))
    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for name, model in (("discriminator", discriminator), ("generator", generator)):
        model.save_pretrained(os.path.join(tmp, name))
        shutil.copy(vocab_file, os.path.join(tmp, name))
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(tmp, args.out)
    print(json.dumps({"out": args.out, "tokens": int(counts.sum()),
                      "bias_range": [float(prior.min()), float(prior.max())]}))


if __name__ == "__main__":
    main()
