#!/usr/bin/env python3
"""Times HuggingFace's Rust tokenizer (PyPI `tokenizers`, BERT pipeline) on the same lines as
bench/tokenizer_throughput.cpp: one thread (run with RAYON_NUM_THREADS=1 under taskset), best of N
passes of encode_batch over blocks of 2000 lines. Prints JSON {bytes, lines, tokens, seconds,
mb_per_s, tokens_per_s, tokenizers}.
usage: hf_tokenizer_throughput.py VOCAB TEXT_FILE [PASSES]"""
import json
import sys
import time

import os

import tokenizers

# The same pipeline as the differential test's reference.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tokenizer"))
from reference_tokenize import bert_tokenizer  # noqa: E402


def main():
    vocab_path, text_path = sys.argv[1:3]
    passes = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    tokenizer = bert_tokenizer(vocab_path, lowercase=True)
    with open(text_path, "rb") as f:
        raw = f.read()
    lines = raw.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    best, tokens = float("inf"), 0
    for _ in range(passes):
        tokens = 0
        started = time.perf_counter()
        for i in range(0, len(lines), 2000):
            for encoding in tokenizer.encode_batch(lines[i:i + 2000]):
                tokens += len(encoding.ids)
        best = min(best, time.perf_counter() - started)
    print(json.dumps({"bytes": len(raw), "lines": len(lines), "tokens": tokens, "seconds": best,
                      "mb_per_s": len(raw) / 1e6 / best, "tokens_per_s": tokens / best,
                      "tokenizers": tokenizers.__version__}))


main()
