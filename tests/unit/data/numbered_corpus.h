// A small training corpus for loader tests: rows of 8 tokens, each carrying its global number.
#pragma once

#include <string>
#include <vector>

#include "data/batch_loader.h"
#include "data/manifest.h"
#include "data/shard_writer.h"
#include "data/vocabulary.h"

namespace electra::data {

inline const Vocabulary& vocab() {
  static const Vocabulary v = Vocabulary::from_tokens([] {
    std::vector<std::string> tokens{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 2000; ++i) tokens.push_back("t" + std::to_string(i));
    return tokens;
  }());
  return v;
}

// A corpus of train shards (by default two, of 300 and 170 rows) whose rows carry their global
// number.
inline void write_corpus(const std::string& dir, const std::vector<int>& shard_rows = {300, 170}) {
  Manifest manifest;
  manifest.vocab_sha256 = vocab().sha256();
  manifest.vocab_size = (long long)vocab().size();
  manifest.max_seq_length = 8;
  long long id = 0;
  for (size_t s = 0; s < shard_rows.size(); ++s) {
    const std::string name = "train-0000" + std::to_string(s) + ".h5";
    const int rows = shard_rows[s];
    ShardAttributes attributes;
    attributes.vocab_sha256 = vocab().sha256();
    attributes.vocab_size = (long long)vocab().size();
    attributes.max_seq_length = 8;
    attributes.split = "train";
    ShardWriter writer(dir + "/" + name, attributes, 64);
    for (int r = 0; r < rows; ++r, ++id) {
      writer.append({{2, int32_t(10 + id % 1000), int32_t(10 + id / 1000), 3, 0, 0, 0, 0},
                     {1, 1, 1, 1, 0, 0, 0, 0},
                     {0, 0, 0, 0, 0, 0, 0, 0}});
    }
    const auto summary = writer.finish();
    manifest.shards.push_back(
        {name, "train", summary.num_examples, summary.num_tokens, summary.sha256});
  }
  manifest.write(dir);
}

inline long long row_id(const RowBatch& batch, long long row) {
  return (batch.input_ids[size_t(row * 8 + 1)] - 10) +
         1000 * (batch.input_ids[size_t(row * 8 + 2)] - 10);
}

}  // namespace electra::data
