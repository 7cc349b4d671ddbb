// A micro-batch from the host to the device in one transfer. The rows (input ids int32, input
// mask and segment ids uint8, as the shards store them), the rows' random keys, their
// masked-position counts and the loss denominators are packed into one host buffer — pinned on
// CUDA, so the copy is non-blocking and overlaps the kernels still queued — copied as bytes,
// and viewed and widened on the device. The device never counts what the host already knows.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "app/train/electra_step.h"
#include "data/batch_loader.h"

namespace electra::train {

// What the host knows of one micro-batch besides its rows.
struct HostBatchInfo {
  std::vector<uint64_t> row_keys;       // [B] RowRandom keys
  std::vector<int32_t> counts;          // [B] masked positions per row (prediction_count)
  std::array<float, 2> denominators{};  // MLM, RTD
  // Whole-word masking (whole_word_masking.h): [B, P] chosen positions and keep flags, with
  // `counts` the positions chosen; empty for token masking.
  std::vector<int32_t> mask_positions;
  std::vector<uint8_t> keep_original;
};

class BatchStager {
 public:
  explicit BatchStager(at::Device device) : device_(device) {}
  // The batch on the device: long input_ids, input_mask, segment_ids, prediction_counts; int64
  // row_keys; float denominators; has_padding from the host rows.
  Batch stage(const data::RowBatch& rows, const HostBatchInfo& info);

  // For a captured CUDA graph, whose inputs stay at one address: the packed batch goes into one
  // device buffer, reused, and unpack_device_buffer() (captured with the step) reads it, with
  // has_padding that of the rows last copied (returned here): a step captured for a batch without
  // padding attends without the mask (flash attention), and serves only such batches.
  // The first copy fixes the buffer and its shape: a micro-batch of another shape later throws
  // std::runtime_error naming both shapes and --cuda-graph (never a reallocation under the graph).
  bool copy_to_device_buffer(const data::RowBatch& rows, const HostBatchInfo& info);
  Batch unpack_device_buffer() const;
  // The device buffer copy_to_device_buffer() fills (undefined before the first copy).
  const at::Tensor& device_buffer() const { return device_buffer_; }

  struct Layout {
    int64_t rows = 0, length = 0;
    int64_t keys = 0, denominators = 0, counts = 0, ids = 0, mask = 0, segments = 0, total = 0;
    int64_t predictions = 0, positions = 0, keep = 0;  // whole-word masking: P, its fields
  };

 private:
  at::Tensor pack(const data::RowBatch& rows, const HostBatchInfo& info, Layout& layout) const;
  static Batch unpack(const at::Tensor& bytes, const Layout& layout);

  at::Device device_;
  Layout layout_;             // of device_buffer_
  at::Tensor device_buffer_;  // [bytes] uint8
  bool buffer_has_padding_ = true;
};

}  // namespace electra::train
