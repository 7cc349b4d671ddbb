// Reads HDF5 shards for training: validated on open, random access by row, and ShardRowStream
// for an epoch's pass with read-ahead of row blocks on a background thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/hdf5_util.h"
#include "data/shard_format.h"

namespace electra::data {

class Vocabulary;

// Rows [first_row, first_row + rows) of a shard, row-major [rows, L].
struct RowBlock {
  long long first_row = 0, rows = 0, length = 0;
  std::vector<int32_t> input_ids;
  std::vector<uint8_t> input_mask, segment_ids;
  Example example(long long i) const;  // i-th row of the block
};

class ShardReader {
 public:
  enum class Layout { kElectra, kNvidiaBert };
  // Opens the shard and checks its datasets (and, for kElectra, its attributes); throws an error
  // naming the file and what to do when it is missing, truncated, corrupt or not a shard.
  explicit ShardReader(std::string path, Layout layout = Layout::kElectra);

  // Throws unless the shard was made with `vocab` (same sha256) and the expected casing.
  void check_vocabulary(const Vocabulary& vocab, bool lowercase) const;

  const std::string& path() const { return path_; }
  const ShardAttributes& attributes() const { return attributes_; }
  long long num_rows() const { return rows_; }
  long long seq_length() const { return length_; }

  RowBlock read_rows(long long first_row, long long rows) const;
  Example read_row(long long row) const { return read_rows(row, 1).example(0); }
  // Any 2-D integer dataset of the file, rows [first_row, first_row + rows), as int32.
  std::vector<int32_t> read_int_matrix(const char* dataset, long long first_row, long long rows,
                                       long long* columns) const;

 private:
  std::string path_;
  H5Handle file_;
  ShardAttributes attributes_;
  long long rows_ = 0, length_ = 0;
};

// One pass over rows [row_begin, row_end) of a shard in a seeded order: blocks of `block_rows`
// rows in a permuted order, rows shuffled within each block. A background thread reads up to
// `depth` blocks ahead.
class ShardRowStream {
 public:
  struct Options {
    long long row_begin = 0, row_end = -1;  // -1: to the last row
    long long block_rows = 1024;
    size_t depth = 2;
    bool shuffle = true;
    uint64_t seed = 0;
  };
  ShardRowStream(std::shared_ptr<const ShardReader> reader, Options options);
  ~ShardRowStream();
  ShardRowStream(const ShardRowStream&) = delete;
  ShardRowStream& operator=(const ShardRowStream&) = delete;

  // The next row; false at the end of the pass. Rethrows a read error of the background thread.
  bool next(Example& example);

 private:
  struct ShuffledBlock {
    RowBlock block;
    std::vector<long long> order;  // row indices within the block
  };
  void read_ahead(std::vector<long long> block_starts);

  std::shared_ptr<const ShardReader> reader_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<ShuffledBlock> ready_;
  bool done_ = false, stopping_ = false;
  std::exception_ptr error_;
  ShuffledBlock current_;
  size_t position_ = 0;
  std::thread thread_;
};

}  // namespace electra::data
