// Batches for training from a prepared corpus, split across ranks (DESIGN.md section 5): each
// epoch a permutation seeded by (seed, epoch) orders the blocks of rows of every shard of the
// split; rank r takes blocks r, r + W, r + 2W, ...; rows are shuffled within a block. Every rank
// runs the same number of batches per epoch (the smallest share decides), so no rank waits in a
// collective for one that ran out. Blocks are read ahead on a background thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/manifest.h"
#include "data/shard_reader.h"

namespace electra::data {

struct BatchLoaderOptions {
  std::string split = "train";
  int rank = 0, world = 1;
  long long batch_size = 32;  // per rank
  long long block_rows = 256;
  uint64_t seed = 0;
  size_t read_ahead_blocks = 4;
};

// One batch: row-major [batch_size, L].
struct RowBatch {
  long long rows = 0, length = 0;
  std::vector<int32_t> input_ids;
  std::vector<uint8_t> input_mask, segment_ids;
};

class BatchLoader {
 public:
  // Opens every shard of the split (checking it against `vocab`); throws naming the problem.
  BatchLoader(const std::string& dir, const Vocabulary& vocab, bool lowercase,
              BatchLoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  long long batches_per_epoch() const { return batches_per_epoch_; }
  long long seq_length() const { return length_; }
  // Starts epoch `epoch` at batch `first_batch` (to resume); the next() calls follow it.
  void start_epoch(long long epoch, long long first_batch = 0);
  // The next batch of the epoch; false after batches_per_epoch() batches.
  bool next(RowBatch& batch);

 private:
  struct Block {
    size_t shard;
    long long first_row, rows;
  };
  std::vector<Block> my_blocks(long long epoch) const;
  void read_ahead(std::vector<Block> blocks, long long skip_rows, uint64_t shuffle_seed);
  void stop_reader();

  BatchLoaderOptions options_;
  std::vector<std::shared_ptr<const ShardReader>> shards_;
  std::vector<Block> blocks_;  // every block of the split, in manifest order
  long long length_ = 0, batches_per_epoch_ = 0, batches_given_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<RowBlock> ready_;  // rows already shuffled
  bool done_ = false, stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
  RowBlock current_;
  long long position_ = 0;  // next row of current_
};

}  // namespace electra::data
