#!/usr/bin/env python3
"""HuggingFace's Rust tokenizer (PyPI `tokenizers`, BERT pipeline) as the reference for
`electra tokenize`: reads lines (a TAB separates a pair), prints ids or pieces per line.
usage: reference_tokenize.py VOCAB cased|uncased ids|tokens < lines"""
import sys

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors


def bert_tokenizer(vocab_path, lowercase):
    """BERT's WordPiece pipeline with [CLS]/[SEP] (also bench/hf_tokenizer_throughput.py's)."""
    tokenizer = Tokenizer(models.WordPiece.from_file(vocab_path, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=lowercase, lowercase=lowercase)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    token_id = tokenizer.token_to_id
    tokenizer.post_processor = processors.BertProcessing(("[SEP]", token_id("[SEP]")),
                                                         ("[CLS]", token_id("[CLS]")))
    tokenizer.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    return tokenizer


def main():
    vocab_path, casing, mode = sys.argv[1:4]
    tokenizer = bert_tokenizer(vocab_path, lowercase=casing != "cased")

    # Lines split on '\n' only (as the C++ reader does), one '\r' before it dropped.
    text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        first, tab, second = line.partition("\t")
        encoding = tokenizer.encode(first, second) if tab else tokenizer.encode(line)
        out.append(" ".join(encoding.tokens if mode == "tokens" else map(str, encoding.ids)))
    sys.stdout.buffer.write(("\n".join(out) + "\n" if out else "").encode("utf-8"))


if __name__ == "__main__":
    main()
