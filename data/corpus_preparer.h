// One rank's part of `electra prepare`: its input files -> examples -> its shards. The ranks
// split the input files; each file's example builder is seeded by (seed, file index), so the
// examples made do not depend on how many ranks there are.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/input_files.h"
#include "data/manifest.h"
#include "data/shard_set_writer.h"
#include "data/wordpiece_tokenizer.h"

namespace electra::data {

struct PrepareOptions {
  std::string out_dir;
  long long seq_len = 128;
  int total_train_shards = 1;
  double val_fraction = 0.0;
  uint64_t seed = 12345;
  size_t max_line_bytes = 1 << 20;
};

struct PrepareStats {
  long long files = 0, bytes = 0, lines = 0, examples = 0, train_examples = 0,
            validation_examples = 0, tokens = 0, positions = 0;
  unsigned long long invalid_utf8 = 0;

  void add(const PrepareStats& other);
  nlohmann::json to_json() const;
  static PrepareStats from_json(const nlohmann::json& json);
};

// What a rank made: sent to rank 0 as JSON to write the manifest and the summary. The shards
// are manifest entries (file names in the output folder).
struct RankOutput {
  std::vector<ManifestShard> shards;
  PrepareStats stats;
  nlohmann::json to_json() const;
  static RankOutput from_json(const nlohmann::json& json);
};

using ProgressCallback = std::function<void(const PrepareStats& stats, const InputFile& file)>;

// Files with the larger first to the least-loaded rank: every rank computes the same split.
std::vector<std::vector<InputFile>> assign_files_to_ranks(const std::vector<InputFile>& files,
                                                          int world);

RankOutput prepare_text_files(const std::vector<InputFile>& files,
                              const WordPieceTokenizer& tokenizer, const PrepareOptions& options,
                              int rank, int world, const ProgressCallback& progress);

// NVIDIA BERT shards (input after static masking) -> our shards with the original tokens restored
// from masked_lm_positions / masked_lm_ids; next_sentence_labels is dropped.
RankOutput convert_nvidia_shards(const std::vector<InputFile>& files, const Vocabulary& vocab,
                                 bool lowercase, const PrepareOptions& options, int rank, int world,
                                 const ProgressCallback& progress);

// The shard attributes for a corpus made with `vocab`.
ShardAttributes corpus_attributes(const Vocabulary& vocab, bool lowercase, long long seq_len);

}  // namespace electra::data
