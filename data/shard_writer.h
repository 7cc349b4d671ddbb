// Writes examples into one HDF5 shard. The file is built under "<path>.tmp" and renamed to its
// final name only after every row and attribute is written and the file closed cleanly, so a
// crashed or failed run never leaves a shard that looks complete.
#pragma once

#include <string>

#include "data/hdf5_util.h"
#include "data/shard_format.h"

namespace electra::data {

struct ShardSummary {
  std::string path;  // final path
  std::string split;
  long long num_examples = 0;
  long long num_tokens = 0;  // real (unpadded) tokens
  std::string sha256;        // of the finished file
};

class ShardWriter {
 public:
  ShardWriter(std::string path, ShardAttributes attributes, size_t chunk_rows = 1024);
  ~ShardWriter();  // an unfinished shard's temporary file is removed
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  void append(const Example& example);
  // Flushes, writes the attributes, closes, hashes and renames. Call once.
  ShardSummary finish();
  long long num_examples() const { return summary_.num_examples; }

 private:
  void flush_rows();

  std::string path_, temp_path_;
  ShardAttributes attributes_;
  size_t chunk_rows_;
  long long length_;  // L
  H5Handle file_, ids_, mask_, segments_;
  std::vector<int32_t> ids_buffer_;       // [rows, L]
  std::vector<uint8_t> mask_buffer_;      // [rows, L]
  std::vector<uint8_t> segments_buffer_;  // [rows, L]
  long long written_rows_ = 0;
  ShardSummary summary_;
  bool finished_ = false;
};

// The narrowest HDF5 integer type that holds ids below `vocab_size`.
hid_t id_storage_type(long long vocab_size);

}  // namespace electra::data
