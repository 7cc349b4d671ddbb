// Distributes one rank's examples over its shards: each example is sent to the validation shard
// with probability val_fraction (decided by a hash of seed, input file and example index, so the
// split does not depend on the number of ranks) and otherwise round-robin over the rank's train
// shards. Shards are created on their first example; empty ones never appear.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/shard_writer.h"

namespace electra::data {

struct ShardSetOptions {
  std::string out_dir;
  ShardAttributes attributes;  // split is filled in per shard
  int rank = 0, world = 1;
  int total_train_shards = 1;  // over all ranks (at least one per rank)
  double val_fraction = 0.0;
  uint64_t seed = 0;
};

class ShardSetWriter {
 public:
  explicit ShardSetWriter(ShardSetOptions options);
  void add(const Example& example, long long file_index, long long example_index);
  std::vector<ShardSummary> finish();  // finishes every shard

 private:
  ShardSetOptions options_;
  int shards_per_rank_;
  std::vector<std::unique_ptr<ShardWriter>> train_;  // [shards_per_rank]
  std::unique_ptr<ShardWriter> validation_;
  long long train_examples_ = 0;
};

}  // namespace electra::data
