#!/usr/bin/env bash
# The downstream tasks' own training text, without labels, as a pretraining corpus (issue 27:
# self-pretraining, as in Krishna et al. 2023, "Downstream datasets make surprisingly good
# pretraining corpora", and task-adaptive pretraining, Gururangan et al. 2020). Only the training
# splits: no dev or test text reaches pretraining. Writes into DEST, in the pretraining format (one
# sentence or paragraph a line, a blank line between documents):
#   sst2.txt   SST-2's 67,349 training phrases, 32 to a document (their order as distributed)
#   conll.txt  CoNLL-2000's 8,936 training sentences (the words only), 20 to a document
#   spam.txt   SpamAssassin's 4,787 training mails, one a document
# Each written to a temporary name, then renamed; files already there are kept.
#   bash bench/task_text.sh DEST [DATA]      (DATA: default ../shared/data)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: bench/task_text.sh DEST [DATA]}
data=${2:-$root/../shared/data}
for need in glue/SST-2/train.tsv.xz conll2000/train.txt.xz spam_train.tsv.xz; do
  [[ -f $data/$need ]] || { echo "bench/task_text.sh: $data/$need is missing (give the data directory)" >&2; exit 1; }
done
mkdir -p "$dest"
# write NAME: stdin to DEST/NAME unless it is there.
write() {
  [[ -s $dest/$1 ]] && { cat >/dev/null; return 0; }
  cat >"$dest/$1.tmp" && mv "$dest/$1.tmp" "$dest/$1"
}
xz -dc "$data/glue/SST-2/train.tsv.xz" |
  awk -F'\t' 'NR > 1 { sub(/ +$/, "", $1); print $1; if ((NR - 1) % 32 == 0) print "" }' | write sst2.txt
xz -dc "$data/conll2000/train.txt.xz" |
  awk 'BEGIN { RS = ""; FS = "\n" }
       { line = ""; for (i = 1; i <= NF; i++) { split($i, f, " "); line = line (i > 1 ? " " : "") f[1] }
         print line; if (NR % 20 == 0) print "" }' | write conll.txt
# The spam TSV is already "text<TAB>label", whitespace collapsed: each mail a document.
bash "$root/launch/spam-data.sh" "$dest/.spam" "$data"
awk -F'\t' 'NR > 1 { print $1; print "" }' "$dest/.spam/spam_train.tsv" | write spam.txt
rm -rf "$dest/.spam"
wc -c "$dest"/sst2.txt "$dest"/conll.txt "$dest"/spam.txt | sed 's/^/bench\/task_text.sh: /'
