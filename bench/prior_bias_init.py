#!/usr/bin/env python3
"""A freshly initialised ELECTRA pair whose generator's output bias starts at the corpus's log
unigram frequencies, its word rows optionally at the corpus's count-based token vectors (issue 27).

With every output bias at zero, the generator first learns the unigram distribution; Adam moves
each of a word row's E coordinates about as far per step as the bias's one, so most of that prior
ends up in the word rows as one shared "frequent" direction (and its opposite for rare tokens), which
the embedding LayerNorm then lets dominate what tells tokens apart. Starting the bias at the prior
leaves the rows only what the context adds. Writes an HF pair (discriminator/ and generator/ with
the embeddings shared, as `electra export` writes) for `electra pretrain --init-from DIR`; every
other weight as HuggingFace initialises it (normal, std initializer_range), seeded.

  .venv/bin/python bench/prior_bias_init.py --like EXPORT --data SHARDS --out DIR [--seed 0]
        [--bias prior|zero] [--word-rows random|ppmi]
where EXPORT is an `electra export --out` folder of the same sizes (its config.json files and
vocab.txt are used). --word-rows ppmi: the shared word rows start as the corpus's count-based
token vectors (corpus_counts.ppmi_rows: PPMI with the 5,000 most frequent tokens within two places,
SVD to the embedding size), scaled to the initialisation's standard deviation; tokens the corpus
never shows keep random rows. --bias zero: the output bias as HuggingFace starts it.
"""
import argparse
import json
import os
import shutil

import numpy as np
import torch
from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

from corpus_counts import ppmi_rows, training_token_counts

NEVER_MASKED = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--like", required=True, help="an electra export folder of the sizes wanted")
    parser.add_argument("--data", required=True, help="the prepared corpus to be pretrained on")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bias", choices=("prior", "zero"), default="prior")
    parser.add_argument("--word-rows", choices=("random", "ppmi"), default="random")
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
        if args.bias == "prior":
            generator.generator_lm_head.bias.copy_(torch.tensor(prior, dtype=torch.float32))
        if args.word_rows == "ppmi":
            rows = ppmi_rows(args.data, d_config.vocab_size, dims=d_config.embedding_size)
            seen = np.abs(rows).sum(axis=1) > 0
            rows *= d_config.initializer_range / rows[seen].std()
            for model in (discriminator, generator):
                table = model.electra.embeddings.word_embeddings.weight
                table[torch.from_numpy(seen)] = torch.tensor(rows[seen], dtype=torch.float32)
                table[d_config.pad_token_id].zero_()
    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for name, model in (("discriminator", discriminator), ("generator", generator)):
        model.save_pretrained(os.path.join(tmp, name))
        shutil.copy(vocab_file, os.path.join(tmp, name))
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(tmp, args.out)
    print(json.dumps({"out": args.out, "tokens": int(counts.sum()), "bias": args.bias,
                      "word_rows": args.word_rows,
                      "bias_range": [float(prior.min()), float(prior.max())] if args.bias == "prior" else [0.0, 0.0]}))


if __name__ == "__main__":
    main()
