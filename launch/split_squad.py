#!/usr/bin/env python3
"""Splits a SQuAD file (v1.1 or v2.0 JSON, or its .xz) by article into a training and a dev file.

Used for the README's SQuAD experiment, where only the official dev set is at hand: the first
--train-articles articles train, the rest evaluate. --max-paragraphs / --max-articles keep small
samples (the test fixtures in tests/data). Standard library only; the outputs keep the input's
"version" and every field of the kept articles, paragraphs and questions.

  python3 launch/split_squad.py dev-v1.1.json.xz --train-articles 40 \
      --train-out squad40.json --dev-out squad8.json
"""
import argparse
import os
import json
import lzma
import sys


def load(path):
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--train-articles", type=int, required=True,
                        help="the first N articles train, the others evaluate")
    parser.add_argument("--train-out", required=True)
    parser.add_argument("--dev-out", required=True)
    parser.add_argument("--max-articles", type=int, default=0,
                        help="keep at most this many articles in each output (0: all)")
    parser.add_argument("--max-paragraphs", type=int, default=0,
                        help="keep at most this many paragraphs per article (0: all)")
    args = parser.parse_args()
    data = load(args.input)
    articles = data.get("data")
    if not isinstance(articles, list) or not articles:
        sys.exit(f"split_squad: {args.input}: no 'data' list of articles")
    if not 0 < args.train_articles < len(articles):
        sys.exit(f"split_squad: --train-articles must be in 1..{len(articles) - 1} "
                 f"({args.input} has {len(articles)} articles)")

    def trimmed(part):
        if args.max_articles:
            part = part[:args.max_articles]
        if args.max_paragraphs:
            part = [dict(a, paragraphs=a["paragraphs"][:args.max_paragraphs]) for a in part]
        return part

    for part, path in ((articles[:args.train_articles], args.train_out),
                       (articles[args.train_articles:], args.dev_out)):
        part = trimmed(part)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"version": data.get("version", "1.1"), "data": part}, f, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        questions = sum(len(p["qas"]) for a in part for p in a["paragraphs"])
        print(f"{path}: {len(part)} articles, {questions} questions")


if __name__ == "__main__":
    main()
