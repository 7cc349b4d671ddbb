#!/usr/bin/env bash
# Differential test: `electra tokenize` against HuggingFace's Rust tokenizer (PyPI tokenizers in
# the project's environment, pinned in launch/requirements.txt), uncased and cased:
#  - >= 20,000 lines of varied real text (prose, e-mail, 532 languages, pairs), ids and pieces;
#  - every Unicode code point (surrogates and line breaks aside) inside, before and after words.
# Any mismatching line fails the test and is shown.
# usage: differential_test.sh ELECTRA VOCAB CORPUS.txt.xz WORK_DIR PYTHON
set -euo pipefail
electra=$1 vocab=$2 corpus=$3 work=$4 python=$5
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
"$python" -c 'import tokenizers' ||
  { echo "$python has no tokenizers: run launch/setup.sh"; exit 1; }
echo "reference: tokenizers $("$python" -c 'import tokenizers; print(tokenizers.__version__)')"
xz -dc "$corpus" > "$work/corpus.txt"
lines=$(wc -l < "$work/corpus.txt")
[ "$lines" -ge 20000 ] || { echo "corpus has only $lines lines"; exit 1; }
python3 -c '
import sys
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for c in range(1, 0x110000):
        if 0xD800 <= c <= 0xDFFF or c in (10, 13):
            continue
        ch = chr(c)
        out.write("a" + ch + "b x" + ch + ch + " " + ch + "\n")
' "$work/codepoints.txt"

status=0
# compare NAME FILE CASING MODE
compare() {
  local name=$1 file=$2 casing=$3 mode=$4 flags=()
  [ "$casing" = cased ] && flags+=(--cased)
  [ "$mode" = tokens ] && flags+=(--tokens)
  "$python" "$here/reference_tokenize.py" "$vocab" "$casing" "$mode" < "$file" > "$work/ref.$name.$casing.$mode"
  "$electra" tokenize --vocab "$vocab" "${flags[@]}" < "$file" > "$work/ours.$name.$casing.$mode"
  local total refs mismatches
  total=$(wc -l < "$file")
  refs=$(wc -l < "$work/ref.$name.$casing.$mode")
  mismatches=$(awk 'NR == FNR { ref[FNR] = $0; next } ref[FNR] != $0 { n++ } END { print n + 0 }' \
               "$work/ref.$name.$casing.$mode" "$work/ours.$name.$casing.$mode")
  echo "$name $casing $mode: $total lines, reference $refs lines, $mismatches mismatching"
  if [ "$mismatches" -ne 0 ] || [ "$refs" -ne "$total" ]; then
    status=1
    diff "$work/ref.$name.$casing.$mode" "$work/ours.$name.$casing.$mode" | head -20 || true
  fi
}
for casing in uncased cased; do
  for mode in ids tokens; do compare text "$work/corpus.txt" "$casing" "$mode"; done
  compare codepoints "$work/codepoints.txt" "$casing" ids
done
exit $status
