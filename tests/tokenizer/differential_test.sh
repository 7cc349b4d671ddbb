#!/usr/bin/env bash
# Differential test: `electra tokenize` against HuggingFace's Rust tokenizer (npm tokenizers,
# pinned with its integrity hash in package-lock.json) on >= 20,000 lines of varied real text,
# uncased and cased, ids and word pieces. Any mismatching line fails the test and is shown.
# usage: differential_test.sh ELECTRA VOCAB CORPUS.txt.xz WORK_DIR
set -euo pipefail
electra=$1 vocab=$2 corpus=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
command -v node >/dev/null || { echo "node is missing: run launch/setup.sh"; exit 1; }
if [ ! -f "$work/node_modules/tokenizers/package.json" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$here/reference_tokenize.js" "$work/"
xz -dc "$corpus" > "$work/corpus.txt"
lines=$(wc -l < "$work/corpus.txt")
[ "$lines" -ge 20000 ] || { echo "corpus has only $lines lines"; exit 1; }
status=0
for casing in uncased cased; do
  for mode in ids tokens; do
    flags=()
    [ "$casing" = cased ] && flags+=(--cased)
    [ "$mode" = tokens ] && flags+=(--tokens)
    node "$work/reference_tokenize.js" "$vocab" "$casing" "$mode" < "$work/corpus.txt" > "$work/ref.$casing.$mode"
    "$electra" tokenize --vocab "$vocab" "${flags[@]}" < "$work/corpus.txt" > "$work/ours.$casing.$mode"
    mismatches=$(awk 'NR == FNR { ref[FNR] = $0; next } ref[FNR] != $0 { n++ } END { print n + 0 }' \
                 "$work/ref.$casing.$mode" "$work/ours.$casing.$mode")
    refs=$(wc -l < "$work/ref.$casing.$mode")
    echo "$casing $mode: $lines lines, reference $refs lines, $mismatches mismatching"
    if [ "$mismatches" -ne 0 ] || [ "$refs" -ne "$lines" ]; then
      status=1
      diff "$work/ref.$casing.$mode" "$work/ours.$casing.$mode" | head -20 || true
    fi
  done
done
exit $status
