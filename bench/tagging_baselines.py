#!/usr/bin/env python3
"""Trivial tagging baselines, written as conlleval input ("word gold predicted" lines, a blank line
between sentences) for `electra evaluate --conlleval FILE`.

chunk: a CoNLL-2000 test file (word POS chunk); `pos-majority` tags each word with the chunk tag
most frequent for its POS tag in training (the shared task's own baseline), `word-majority` with
the tag most frequent for the word (unseen words: the POS majority).
upos: a CoNLL-U test file; `word-majority` tags each word (lower-cased) with its most frequent UPOS
in training, unseen words with the most frequent UPOS overall.

  python3 bench/tagging_baselines.py chunk TRAIN TEST --out-dir DIR
  python3 bench/tagging_baselines.py upos TRAIN.conllu TEST.conllu --out-dir DIR
"""
import argparse
import collections
import os


def conll_sentences(path):
    sentence = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0] == "-DOCSTART-":
                if sentence:
                    yield sentence
                sentence = []
                continue
            sentence.append(fields)
    if sentence:
        yield sentence


def conllu_sentences(path):
    for sentence in conll_sentences_tab(path):
        yield sentence


def conll_sentences_tab(path):
    sentence = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if sentence:
                    yield sentence
                sentence = []
                continue
            if line.startswith("#"):
                continue
            fields = line.split("\t")
            if "-" in fields[0] or "." in fields[0]:
                continue  # multi-word ranges and empty nodes are not tagged
            sentence.append([fields[1], fields[3]])
    if sentence:
        yield sentence


def most_frequent(pairs):
    counts = collections.defaultdict(collections.Counter)
    for key, tag in pairs:
        counts[key][tag] += 1
    return {key: c.most_common(1)[0][0] for key, c in counts.items()}


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for sentence in rows:
            for word, gold, predicted in sentence:
                f.write(f"{word} {gold} {predicted}\n")
            f.write("\n")
    print(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["chunk", "upos"])
    parser.add_argument("train")
    parser.add_argument("test")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    if args.kind == "chunk":
        train = [w for s in conll_sentences(args.train) for w in s]
        by_pos = most_frequent((w[1], w[-1]) for w in train)
        by_word = most_frequent((w[0], w[-1]) for w in train)
        fallback = collections.Counter(w[-1] for w in train).most_common(1)[0][0]
        test = list(conll_sentences(args.test))
        write(os.path.join(args.out_dir, "chunk-pos-majority.txt"),
              [[(w[0], w[-1], by_pos.get(w[1], fallback)) for w in s] for s in test])
        write(os.path.join(args.out_dir, "chunk-word-majority.txt"),
              [[(w[0], w[-1], by_word.get(w[0], by_pos.get(w[1], fallback))) for w in s]
               for s in test])
    else:
        train = [w for s in conllu_sentences(args.train) for w in s]
        by_word = most_frequent((w[0].lower(), w[1]) for w in train)
        fallback = collections.Counter(w[1] for w in train).most_common(1)[0][0]
        test = list(conllu_sentences(args.test))
        write(os.path.join(args.out_dir, "upos-word-majority.txt"),
              [[(w[0], w[1], by_word.get(w[0].lower(), fallback)) for w in s] for s in test])


if __name__ == "__main__":
    main()
