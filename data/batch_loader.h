// Batches for training from a prepared corpus, split across ranks (DESIGN.md section 5). Each
// epoch is one stream of rows: the blocks of every shard of the split in an order seeded by
// (seed, epoch), the rows of each block shuffled by (seed, epoch, block). An epoch started at
// stream row F has global batches k = 0, 1, ... of rows [F + k * G, F + (k + 1) * G) with
// G = world * batch_size, and rank r takes the slice [F + k * G + r * batch_size, ... +
// batch_size). So the global batch does not depend on how many ranks share it (2 ranks x b see the
// rows of 1 rank x 2b), any number of shards serves any number of ranks (shards of any sizes: a
// rank's rows come from wherever the stream puts them), every rank runs the same number of batches,
// a resumed epoch continues at the row where it stopped whatever the new world size or batch
// (positions are counted in rows), and a rank reads only the blocks that hold its rows, ahead, on a
// thread (when block_rows is smaller than the global batch, that is most blocks: a text corpus is
// small next to the step's compute, and the price buys a global batch independent of the ranks).
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
  size_t read_ahead_batches = 8;
};

// One batch: row-major [rows, L].
struct RowBatch {
  long long rows = 0, length = 0;
  std::vector<int32_t> input_ids;
  std::vector<uint8_t> input_mask, segment_ids;
};

// Opens every shard of a split of the corpus in DIR, checking each against `vocab`; throws naming
// the problem (no such split, another vocabulary, mixed sequence lengths).
std::vector<std::shared_ptr<const ShardReader>> open_split(const std::string& dir,
                                                           const std::string& split,
                                                           const Vocabulary& vocab, bool lowercase);

class BatchLoader {
 public:
  BatchLoader(const std::string& dir, const Vocabulary& vocab, bool lowercase,
              BatchLoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  long long batches_per_epoch() const { return total_rows_ / global_batch_; }  // from row 0
  long long total_rows() const { return total_rows_; }  // the training rows, over all ranks
  long long global_batch_rows() const { return global_batch_; }  // G = world x batch_size
  long long seq_length() const { return length_; }
  // Starts epoch `epoch` at stream row `first_row` (to resume; rows the epoch already used); the
  // next() calls follow it.
  void start_epoch(long long epoch, long long first_row = 0);
  // This rank's slice of the next global batch of the epoch; false when fewer than G rows of
  // the epoch are left.
  bool next(RowBatch& batch);

 private:
  struct Block {
    size_t shard;
    long long first_row, rows;
  };
  void read_ahead(long long epoch, long long first_row, long long batches);
  void stop_reader();

  BatchLoaderOptions options_;
  std::vector<std::shared_ptr<const ShardReader>> shards_;
  std::vector<Block> blocks_;  // every block of the split, in manifest order
  long long length_ = 0, total_rows_ = 0, global_batch_ = 0;
  long long batches_this_epoch_ = 0, batches_given_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<RowBatch> ready_;
  bool done_ = false, stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

// The rows of a split for evaluation, in manifest order, without shuffling: rank r takes the
// contiguous share [r * N / W, (r + 1) * N / W) of the first N rows (all rows, or at most
// max_rows), in batches of batch_size with a smaller last one.
class EvalBatches {
 public:
  EvalBatches(const std::string& dir, const Vocabulary& vocab, bool lowercase,
              const std::string& split, int rank, int world, long long batch_size,
              long long max_rows = 0);
  long long total_rows() const { return total_rows_; }  // N, over all ranks
  long long seq_length() const { return length_; }
  // Starts again at this rank's first row.
  void rewind() { next_row_ = first_row_; }
  // The next batch and the split-wide index of its first row; false when the share is done.
  bool next(RowBatch& batch, long long& first_global_row);

 private:
  std::vector<std::shared_ptr<const ShardReader>> shards_;
  std::vector<long long> shard_starts_;  // split-wide index of each shard's first row
  long long batch_size_, length_ = 0, total_rows_ = 0, first_row_ = 0, end_row_ = 0, next_row_ = 0;
};

}  // namespace electra::data
