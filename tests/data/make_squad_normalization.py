# Makes squad_normalization.jsonl: [text, normalized] pairs, normalized by the official SQuAD
# evaluation scripts' normalize_answer (identical in evaluate-v1.1.py and evaluate-v2.0.py),
# reproduced below, run under Python 3. Inputs: hand-made Unicode and punctuation cases, every
# distinct answer text of the SQuAD v1.1 dev set that holds a non-ASCII character, and every 25th
# of the others (in file order).
# usage: python3 make_squad_normalization.py ../../../shared/data/squad/dev-v1.1.json.xz > squad_normalization.jsonl
import json, lzma, re, string, sys


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


crafted = [
    "The Cat", "  a  an the  ", "Theatre and thesis", "an-the", "the_cat", "«The» end", "«the»",
    "U.S.A.", "don't", "Ñandú THE", "ΟΔΟΣ", "ΣΑΣ Σ", "İstanbul", "STRASSE straße", "a\u00a0b\u2003c",
    "x\u3000the\u3000y", "the\u0301 cat", "café the", "1st the 2nd", "٣ the ٤", "the—end", "— the —",
    "a\tb\nc", "", "   ", "\u2028line\u2029", "ǅungla", "ﬁne THE", "x_the_y", "the\u200bcat",
    "Ⅻ the Ⅻ", "日本 the 東京", "𝐀 the 𝐁", "THE", "ThE", "tHe", "A", "An", "a.n", "th e",
]
answers, seen = [], set()
with lzma.open(sys.argv[1], "rt", encoding="utf-8") as f:
    data = json.load(f)["data"]
plain = 0
for article in data:
    for paragraph in article["paragraphs"]:
        for qa in paragraph["qas"]:
            for answer in qa["answers"]:
                text = answer["text"]
                if text in seen:
                    continue
                seen.add(text)
                if any(ord(c) > 127 for c in text):
                    answers.append(text)
                else:
                    plain += 1
                    if plain % 25 == 0:
                        answers.append(text)
for text in crafted + answers:
    print(json.dumps([text, normalize_answer(text)], ensure_ascii=False))
