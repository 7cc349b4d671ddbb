#!/usr/bin/env python3
"""Trivial SQuAD baselines as official predictions files (question id -> answer text).

first-sentence: the context's first sentence (up to the first '. ', '? ' or '! ');
random-span: a span of 1-5 whitespace words at a uniformly random start (seeded), the length
drawn uniformly too. Score them with `electra evaluate --answers FILE --data SQUAD.json`.

  python3 bench/squad_baselines.py squad8.json --out-dir DIR [--seed 1]
"""
import argparse
import json
import os
import random
import re


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with open(args.squad, encoding="utf-8") as f:
        data = json.load(f)["data"]
    rng = random.Random(args.seed)
    first, spans = {}, {}
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            sentence = re.split(r"(?<=[.?!])\s", context, maxsplit=1)[0]
            words = context.split()
            for qa in paragraph["qas"]:
                first[qa["id"]] = sentence
                length = rng.randint(1, 5)
                start = rng.randrange(max(1, len(words) - length + 1))
                spans[qa["id"]] = " ".join(words[start:start + length])
    os.makedirs(args.out_dir, exist_ok=True)
    for name, answers in (("first-sentence", first), ("random-span", spans)):
        path = os.path.join(args.out_dir, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(answers, f, ensure_ascii=False)
        print(path)


if __name__ == "__main__":
    main()
