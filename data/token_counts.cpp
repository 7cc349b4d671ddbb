#include "data/token_counts.h"

#include <algorithm>
#include <functional>

#include "data/batch_loader.h"
#include "data/vocabulary.h"

namespace electra::data {
namespace {

constexpr long long kBlockRows = 4096;

// Calls `visit` with every counted block of rows, shard by shard in the manifest's order; returns
// the rows the split holds.
long long for_each_counted_block(const CountedRows& counted, const Vocabulary& vocab,
                                 bool lowercase,
                                 const std::function<void(const RowBlock&)>& visit) {
  const auto shards = open_split(counted.data_dir, "train", vocab, lowercase);
  long long split_rows = 0;
  for (const auto& shard : shards) split_rows += shard->num_rows();
  const long long length = shards.front()->seq_length();
  const double fraction = split_rows * length <= counted.max_tokens
                              ? 1.0
                              : double(counted.max_tokens) / double(split_rows * length);
  for (const auto& shard : shards) {
    const long long rows = fraction >= 1.0
                               ? shard->num_rows()
                               : std::max(1LL, (long long)(double(shard->num_rows()) * fraction));
    for (long long first = 0; first < rows; first += kBlockRows) {
      visit(shard->read_rows(first, std::min(kBlockRows, rows - first)));
    }
  }
  return split_rows;
}

}  // namespace

TokenCounts count_tokens(const CountedRows& rows, const Vocabulary& vocab, bool lowercase) {
  TokenCounts result;
  result.counts.assign(vocab.size(), 0);
  result.split_rows = for_each_counted_block(rows, vocab, lowercase, [&](const RowBlock& block) {
    for (size_t i = 0; i < block.input_ids.size(); ++i) {
      if (block.input_mask[i]) ++result.counts[size_t(block.input_ids[i])], ++result.tokens;
    }
    result.rows += block.rows;
  });
  return result;
}

void count_cooccurrences(const CountedRows& rows, const Vocabulary& vocab, bool lowercase,
                         int window, const std::vector<int32_t>& row_of,
                         const std::vector<int32_t>& column_of, int32_t* cooccurrences,
                         long long columns) {
  const auto count = [&](int32_t word, int32_t context) {
    const int32_t r = row_of[size_t(word)], c = column_of[size_t(context)];
    if (r >= 0 && c >= 0) ++cooccurrences[r * columns + c];
  };
  for_each_counted_block(rows, vocab, lowercase, [&](const RowBlock& block) {
    for (long long row = 0; row < block.rows; ++row) {
      const int32_t* ids = block.input_ids.data() + row * block.length;
      const uint8_t* real = block.input_mask.data() + row * block.length;
      for (long long i = 0; i < block.length; ++i) {
        if (!real[i]) continue;
        for (long long j = i + 1; j <= std::min(block.length - 1, i + window); ++j) {
          if (!real[j]) continue;
          count(ids[i], ids[j]);
          count(ids[j], ids[i]);
        }
      }
    }
  });
}

}  // namespace electra::data
