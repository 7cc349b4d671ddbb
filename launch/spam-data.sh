#!/usr/bin/env bash
# The SpamAssassin split for the comparisons: spam_{train,dev,test}.tsv decompressed from
# DATA (default ../shared/data: spam_*.tsv.xz) into DEST, each checked against its sha256 (as the
# data README pins them; a temporary name, then rename). Files already in DEST with the right
# sum are kept.
#   bash launch/spam-data.sh DEST [DATA]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: launch/spam-data.sh DEST [DATA]}
data=${2:-$root/../shared/data}
declare -A sums=(
  [spam_train.tsv]=5ffb03c541b89ff4d6d00828b5f3dafee4c6f625eb0a9ec9cc2a93bebe8d9928
  [spam_dev.tsv]=1194fd75f2a18f28735472a0a4f7055cd031c182792a9c09588899211e8eb690
  [spam_test.tsv]=5fdbbb9b0cb87c1811c5d6dfc3388a52f07dde0e43dd6d679861e627f8ae48a6
)
mkdir -p "$dest"
for name in spam_train.tsv spam_dev.tsv spam_test.tsv; do
  if [ ! -f "$dest/$name" ] || [ "$(sha256sum < "$dest/$name" | cut -d' ' -f1)" != "${sums[$name]}" ]; then
    [ -f "$data/$name.xz" ] ||
      { echo "spam-data.sh: $data/$name.xz is missing (give the data directory)" >&2; exit 1; }
    xz -dc "$data/$name.xz" > "$dest/$name.tmp"
    got=$(sha256sum < "$dest/$name.tmp" | cut -d' ' -f1)
    if [ "$got" != "${sums[$name]}" ]; then
      rm -f "$dest/$name.tmp"
      echo "spam-data.sh: $data/$name.xz: sha256 $got, expected ${sums[$name]}" >&2
      exit 1
    fi
    mv "$dest/$name.tmp" "$dest/$name"
  fi
done
