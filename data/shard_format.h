// The HDF5 shard layout (DESIGN.md section 4): datasets input_ids, input_mask, segment_ids
// [N, L] (the names of NVIDIA's BERT shards), chunked by rows, and root attributes that tie a
// shard to the vocabulary and sequence length it was made with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace electra::data {

inline constexpr int kShardFormatVersion = 1;
inline constexpr const char* kInputIds = "input_ids";      // [N, L] narrowest unsigned type
inline constexpr const char* kInputMask = "input_mask";    // [N, L] uint8, 1 = real token
inline constexpr const char* kSegmentIds = "segment_ids";  // [N, L] uint8, 0 = A, 1 = B

// Root attributes of a shard.
struct ShardAttributes {
  long long format_version = kShardFormatVersion;
  std::string vocab_sha256;
  long long vocab_size = 0;
  bool lowercase = true;
  long long max_seq_length = 0;
  std::string split;  // "train" or "validation"
};

// One pre-training example, padded to L: [CLS] A [SEP] (B [SEP]) 0...
struct Example {
  std::vector<int32_t> input_ids;    // [L]
  std::vector<uint8_t> input_mask;   // [L]
  std::vector<uint8_t> segment_ids;  // [L]

  size_t real_tokens() const;  // positions with input_mask = 1
  bool operator==(const Example& other) const {
    return input_ids == other.input_ids && input_mask == other.input_mask &&
           segment_ids == other.segment_ids;
  }
};

}  // namespace electra::data
