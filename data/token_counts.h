// What a prepared corpus's training split says about its tokens before any model sees it: how
// often each token occurs, and how often two tokens occur within a few places of each other. The
// counts `pretrain --output-bias-init unigram` and `--word-rows-init ppmi` start from
// (app/train/corpus_start.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace electra::data {

class Vocabulary;

// Which training rows are counted: all of them, or when the split holds more than `max_tokens`
// positions (rows x sequence length), the same leading fraction of every shard, so that a large
// corpus is sampled across all its shards and not only from its first.
struct CountedRows {
  std::string data_dir;  // an `electra prepare --out` folder
  long long max_tokens = 100'000'000;
};

struct TokenCounts {
  std::vector<int64_t> counts;  // [vocab size]: the real tokens (input_mask 1) of each id
  long long tokens = 0;         // their sum
  long long rows = 0;           // rows counted
  long long split_rows = 0;     // rows the training split holds
};

// Throws naming the shard when one cannot be read or does not match the manifest or `vocab`.
TokenCounts count_tokens(const CountedRows& rows, const Vocabulary& vocab, bool lowercase);

// Pairs of real tokens at most `window` places apart, in either order, over the same rows:
// cooccurrences[row_of[a] * columns + column_of[b]] is incremented for every such pair (a, b)
// with row_of[a] >= 0 and column_of[b] >= 0 (row_of, column_of: [vocab size], -1 for a token
// not counted as a row or as a column). `cooccurrences` holds rows x columns zeros on entry.
void count_cooccurrences(const CountedRows& rows, const Vocabulary& vocab, bool lowercase,
                         int window, const std::vector<int32_t>& row_of,
                         const std::vector<int32_t>& column_of, int32_t* cooccurrences,
                         long long columns);

}  // namespace electra::data
