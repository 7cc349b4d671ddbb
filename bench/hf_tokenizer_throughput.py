#!/usr/bin/env python3
"""Times HuggingFace's Rust tokenizer (PyPI `tokenizers`, BERT pipeline) on the same lines as
bench/tokenizer_throughput.cpp: one thread (run with RAYON_NUM_THREADS=1 under taskset), best of N
passes of encode_batch over blocks of 2000 lines. Prints JSON {bytes, lines, tokens, seconds,
mb_per_s, tokens_per_s, tokenizers}.
usage: hf_tokenizer_throughput.py VOCAB TEXT_FILE [PASSES]"""
import json
import sys
import time

import tokenizers
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors


def bert_uncased(vocab_path):
    tokenizer = Tokenizer(models.WordPiece.from_file(vocab_path, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    token_id = tokenizer.token_to_id
    tokenizer.post_processor = processors.BertProcessing(("[SEP]", token_id("[SEP]")),
                                                         ("[CLS]", token_id("[CLS]")))
    tokenizer.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    return tokenizer


def main():
    vocab_path, text_path = sys.argv[1:3]
    passes = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    tokenizer = bert_uncased(vocab_path)
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
