// Reads HDF5 shards: validated on open, random access by row and by blocks of rows (BatchLoader
// builds training batches on it with read-ahead).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/hdf5_util.h"
#include "data/manifest.h"
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
  // Throws unless the shard holds what its manifest entry says (split, example count) at the
  // manifest's sequence length: a manifest edited or left from another preparation.
  void check_manifest_entry(const ManifestShard& entry, long long max_seq_length) const;

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
  // Throws naming the file and the row when a value is impossible (corrupt bytes).
  void check_values(const RowBlock& block) const;
  std::string path_;
  H5Handle file_;
  ShardAttributes attributes_;
  long long rows_ = 0, length_ = 0;
};

}  // namespace electra::data
