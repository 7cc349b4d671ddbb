#include "app/train/batch_staging.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace electra::train {

namespace {

int64_t aligned(int64_t bytes) {
  return (bytes + 7) / 8 * 8;  // every field starts at a multiple of 8 bytes
}

// Field `f` of the packed buffer as `dtype` of `shape`.
at::Tensor field(const at::Tensor& bytes, int64_t offset, at::ScalarType dtype,
                 at::IntArrayRef shape) {
  int64_t elements = 1;
  for (int64_t size : shape) elements *= size;
  return bytes.narrow(0, offset, elements * int64_t(c10::elementSize(dtype)))
      .view(dtype)
      .view(shape);
}

bool has_padding(const data::RowBatch& rows) {
  return std::any_of(rows.input_mask.begin(), rows.input_mask.end(),
                     [](uint8_t real) { return real == 0; });
}

std::string shape_text(const BatchStager::Layout& layout) {
  std::string text =
      std::to_string(layout.rows) + " rows x " + std::to_string(layout.length) + " tokens";
  if (layout.predictions) text += " (" + std::to_string(layout.predictions) + " masked positions)";
  return text;
}

}  // namespace

at::Tensor BatchStager::pack(const data::RowBatch& rows, const HostBatchInfo& info,
                             Layout& layout) const {
  const int64_t b = rows.rows, l = rows.length;
  if (int64_t(info.row_keys.size()) != b || int64_t(info.counts.size()) != b) {
    throw std::logic_error("BatchStager: keys or counts for another number of rows");
  }
  // keys int64 [B] | denominators float [2] | counts int32 [B] | ids int32 [B, L] |
  // mask uint8 [B, L] | segments uint8 [B, L]
  layout.rows = b, layout.length = l;
  layout.keys = 0;
  layout.denominators = layout.keys + aligned(8 * b);
  layout.counts = layout.denominators + aligned(8);
  layout.ids = layout.counts + aligned(4 * b);
  layout.mask = layout.ids + aligned(4 * b * l);
  layout.segments = layout.mask + aligned(b * l);
  layout.total = layout.segments + aligned(b * l);
  // whole-word masking: | positions int32 [B, P] | keep uint8 [B, P]
  layout.predictions = b ? int64_t(info.mask_positions.size()) / b : 0;
  if (int64_t(info.keep_original.size()) != layout.predictions * b) {
    throw std::logic_error("BatchStager: keep flags for another number of positions");
  }
  layout.positions = layout.total;
  layout.keep = layout.positions + aligned(4 * b * layout.predictions);
  layout.total = layout.keep + aligned(b * layout.predictions);

  auto options = at::TensorOptions().dtype(at::kByte);
  if (device_.is_cuda()) options = options.pinned_memory(true);
  at::Tensor host = at::empty({layout.total}, options);
  auto* bytes = static_cast<uint8_t*>(host.data_ptr());
  std::memcpy(bytes + layout.keys, info.row_keys.data(), size_t(8 * b));
  std::memcpy(bytes + layout.denominators, info.denominators.data(), 8);
  std::memcpy(bytes + layout.counts, info.counts.data(), size_t(4 * b));
  std::memcpy(bytes + layout.ids, rows.input_ids.data(), size_t(4 * b * l));
  std::memcpy(bytes + layout.mask, rows.input_mask.data(), size_t(b * l));
  std::memcpy(bytes + layout.segments, rows.segment_ids.data(), size_t(b * l));
  if (layout.predictions) {
    std::memcpy(bytes + layout.positions, info.mask_positions.data(),
                size_t(4 * b * layout.predictions));
    std::memcpy(bytes + layout.keep, info.keep_original.data(), size_t(b * layout.predictions));
  }
  return host;
}

Batch BatchStager::unpack(const at::Tensor& bytes, const Layout& layout) {
  const int64_t b = layout.rows, l = layout.length;
  Batch batch;
  batch.row_keys = field(bytes, layout.keys, at::kLong, {b});
  batch.denominators = field(bytes, layout.denominators, at::kFloat, {2});
  batch.prediction_counts = field(bytes, layout.counts, at::kInt, {b}).to(at::kLong);
  batch.input_ids = field(bytes, layout.ids, at::kInt, {b, l}).to(at::kLong);
  batch.input_mask = field(bytes, layout.mask, at::kByte, {b, l}).to(at::kLong);
  batch.segment_ids = field(bytes, layout.segments, at::kByte, {b, l}).to(at::kLong);
  if (layout.predictions) {
    const int64_t p = layout.predictions;
    batch.mask_positions = field(bytes, layout.positions, at::kInt, {b, p}).to(at::kLong);
    batch.keep_original = field(bytes, layout.keep, at::kByte, {b, p}).to(at::kBool);
  }
  return batch;
}

Batch BatchStager::stage(const data::RowBatch& rows, const HostBatchInfo& info) {
  Layout layout;
  const at::Tensor host = pack(rows, info, layout);
  Batch batch = unpack(device_.is_cpu() ? host : host.to(device_, /*non_blocking=*/true), layout);
  batch.has_padding = has_padding(rows);
  return batch;
}

bool BatchStager::copy_to_device_buffer(const data::RowBatch& rows, const HostBatchInfo& info) {
  Layout layout;
  const at::Tensor host = pack(rows, info, layout);
  if (!device_buffer_.defined()) {
    device_buffer_ =
        at::empty({layout.total}, at::TensorOptions().dtype(at::kByte).device(device_));
    layout_ = layout;
  } else if (layout.rows != layout_.rows || layout.length != layout_.length ||
             layout.predictions != layout_.predictions) {
    // Reallocated, the buffer would move under the captured graph, which would go on reading the
    // freed one.
    throw std::runtime_error(
        "--cuda-graph: a micro-batch of " + shape_text(layout) +
        " after the step was captured for " + shape_text(layout_) +
        "; a captured step reads its inputs at one address, so every micro-batch must have one "
        "shape: run without --cuda-graph");
  }
  device_buffer_.copy_(host, /*non_blocking=*/true);
  buffer_has_padding_ = has_padding(rows);
  return buffer_has_padding_;
}

Batch BatchStager::unpack_device_buffer() const {
  if (!device_buffer_.defined()) throw std::logic_error("BatchStager: nothing copied yet");
  Batch batch = unpack(device_buffer_, layout_);
  batch.has_padding = buffer_has_padding_;
  return batch;
}

}  // namespace electra::train
