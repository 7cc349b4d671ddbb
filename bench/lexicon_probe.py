#!/usr/bin/env python3
"""Does a pretrained model's word embedding know word classes? (issue 27: what pretraining
leaves for fine-tuning to use.)

The words of a tagged corpus (CoNLL-2000's training file: word, POS, chunk) that are one token of
the model's vocabulary, occur at least --min-count times there and carry one coarse part of speech
(noun, verb, adjective, adverb, preposition, determiner, pronoun, number, conjunction,
punctuation) in at least 80% of them. For each model, their word-embedding rows less the rows'
mean, and for each word its --k nearest others by cosine: the share of them with the word's class
("purity"). Random rows score the chance level printed beside it (the classes' sizes alone);
anything above is what the embedding learnt about syntax. With --data (the prepared pretraining
corpus) the purity is also given for the words the corpus shows at least 20 times.

  .venv/bin/python bench/lexicon_probe.py --conll TRAIN.txt [--data SHARDS] MODEL ...
MODEL: an `electra export --out` folder (its discriminator/, else generator/) or an HF model folder;
or ppmi:SHARDS, a count-based reference: each token's positive pointwise mutual information with
the 5,000 most frequent tokens within two places of it in those shards' training split, reduced to
64 dimensions by SVD (what plain co-occurrence counts of the same corpus know; about 2 minutes
here).
LABEL=MODEL names it. Prints one JSON line per model: the purity, its chance level, the same with
the classes shuffled over the words, and "balanced": the purity of each class of 100 words or more
(nouns, verbs, adjectives, adverbs, numbers) averaged over them, beside the same average for random
neighbours ("balanced_chance"), so that the nouns' majority does not hide the others.
"""
import argparse
import collections
import glob
import json
import os
import random

import numpy as np
from safetensors.numpy import load_file

from corpus_counts import ppmi_rows, training_token_counts, vocabulary

COARSE = [("NN", "noun"), ("VB", "verb"), ("MD", "verb"), ("JJ", "adjective"), ("RB", "adverb"),
          ("IN", "preposition"), ("TO", "preposition"), ("DT", "determiner"), ("PDT", "determiner"),
          ("WDT", "determiner"), ("PRP", "pronoun"), ("WP", "pronoun"), ("CD", "number"),
          ("CC", "conjunction")]
PUNCTUATION = {",", ".", ":", "``", "''", "(", ")", "#", "$"}


def coarse(tag):
    if tag in PUNCTUATION:
        return "punctuation"
    for prefix, name in COARSE:
        if tag.startswith(prefix):
            return name
    return None


def probe_words(conll, token_ids, min_count):
    """{token id: class} for the unambiguous, frequent enough whole-token words of CONLL."""
    tags = collections.defaultdict(collections.Counter)
    with open(conll, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2:
                tags[fields[0].lower()][coarse(fields[1])] += 1
    words = {}
    for word, counter in tags.items():
        total = sum(counter.values())
        name, top = counter.most_common(1)[0]
        if name and total >= min_count and top >= 0.8 * total and word in token_ids:
            words[token_ids[word]] = name
    return words


def model_rows(folder):
    """The word-embedding matrix and the vocab.txt of an export or HF folder."""
    for sub in ("discriminator", "generator", ""):
        here = os.path.join(folder, sub)
        files = sorted(glob.glob(os.path.join(here, "*.safetensors")))
        if files:
            break
    else:
        raise SystemExit(f"lexicon_probe.py: {folder}: no *.safetensors (give an electra export folder)")
    for file in files:
        weights = load_file(file)
        for name, value in weights.items():
            if name.endswith("embeddings.word_embeddings.weight"):
                return value.astype(np.float64), os.path.join(here, "vocab.txt")
    raise SystemExit(f"lexicon_probe.py: {folder}: no word_embeddings.weight")


def same_class_shares(rows, classes, k):
    """For each row: the share of its k nearest others (cosine, rows less their mean) with its
    class; and the classes as an array."""
    centred = rows - rows.mean(axis=0)
    unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    labels = np.array(classes)
    return (labels[nearest] == labels[:, None]).mean(axis=1), labels


def purity(rows, classes, k):
    """Mean share of each row's k nearest with its class."""
    return float(same_class_shares(rows, classes, k)[0].mean())


def balanced(rows, classes, k, smallest=100):
    """Per class of SMALLEST words or more: its words' mean same-class share among their k
    nearest; averaged over those classes, with the same average for a random neighbour."""
    same, labels = same_class_shares(rows, classes, k)
    n = len(classes)
    big = [(c, m) for c, m in collections.Counter(classes).items() if m >= smallest]
    return (round(float(np.mean([same[labels == c].mean() for c, _ in big])), 4),
            round(float(np.mean([(m - 1) / (n - 1) for _, m in big])), 4),
            {c: round(float(same[labels == c].mean()), 3) for c, _ in big})


def chance(classes):
    sizes = np.array(list(collections.Counter(classes).values()), dtype=np.float64)
    n = sizes.sum()
    return float((sizes * (sizes - 1)).sum() / (n * (n - 1)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conll", required=True, help="a CoNLL-2000 style file: word POS chunk")
    parser.add_argument("--data", help="the pretraining corpus (an electra prepare folder)")
    parser.add_argument("--vocab", help="vocab.txt of the shards (for ppmi:SHARDS)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("models", nargs="+", metavar="[LABEL=]MODEL")
    args = parser.parse_args()
    for given in args.models:
        label, _, folder = given.rpartition("=")
        if folder.startswith("ppmi:"):
            if not args.vocab:
                raise SystemExit("lexicon_probe.py: ppmi:SHARDS needs --vocab (the shards' vocab.txt)")
            tokens = vocabulary(args.vocab)
            rows = ppmi_rows(folder[len("ppmi:"):], len(tokens))
        else:
            rows, vocab_file = model_rows(folder)
            tokens = vocabulary(vocab_file)
        token_ids = {t: i for i, t in enumerate(tokens) if not t.startswith("##")}
        words = probe_words(args.conll, token_ids, args.min_count)
        ids = sorted(words)
        classes = [words[i] for i in ids]
        report = {"model": label or folder, "words": len(ids), "k": args.k,
                  "purity": round(purity(rows[ids], classes, args.k), 4),
                  "chance": round(chance(classes), 4),
                  **dict(zip(("balanced", "balanced_chance", "by_class"),
                             balanced(rows[ids], classes, args.k))),
                  "classes": dict(collections.Counter(classes).most_common())}
        if args.data:
            counts = training_token_counts(args.data, rows.shape[0])
            seen = [i for i in ids if counts[i] >= 20]
            seen_classes = [words[i] for i in seen]
            report.update({"words_seen_20": len(seen),
                           "purity_seen_20": round(purity(rows[seen], seen_classes, args.k), 4),
                           "chance_seen_20": round(chance(seen_classes), 4)})
        # Shuffled classes over the same rows: the purity that no knowledge gives.
        shuffled = classes[:]
        random.Random(0).shuffle(shuffled)
        report["purity_shuffled"] = round(purity(rows[ids], shuffled, args.k), 4)
        print(json.dumps(report))


if __name__ == "__main__":
    main()
