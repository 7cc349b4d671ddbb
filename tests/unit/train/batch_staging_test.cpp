// The staged batch (app/train/batch_staging.h): the device buffer a captured CUDA graph reads
// stays where it is for batches of one shape, and a batch of another shape is an error naming
// both shapes and --cuda-graph — never a reallocation the graph would not see; the buffer's
// batch says whether it has padding (a step captured without it attends without the mask).
#include <gtest/gtest.h>

#include "app/train/batch_staging.h"

namespace electra::train {
namespace {

struct StagedRows {
  data::RowBatch rows;
  HostBatchInfo info;
  StagedRows(int64_t b, int64_t l, int32_t first_id) {
    rows.rows = b, rows.length = l;
    for (int64_t i = 0; i < b * l; ++i) rows.input_ids.push_back(first_id + int32_t(i));
    rows.input_mask.assign(size_t(b * l), 1);
    rows.segment_ids.assign(size_t(b * l), 0);
    for (int64_t r = 0; r < b; ++r) info.row_keys.push_back(uint64_t(100 + r));
    info.counts.assign(size_t(b), 2);
    info.denominators = {4.0f, 8.0f};
  }
};

TEST(BatchStaging, TheGraphsBufferStaysInPlaceAndHoldsEachNewBatch) {
  BatchStager stager(at::kCPU);
  const StagedRows first(2, 4, 10), second(2, 4, 50);
  stager.copy_to_device_buffer(first.rows, first.info);
  const void* address = stager.device_buffer().data_ptr();
  EXPECT_EQ(stager.unpack_device_buffer().input_ids[0][0].item<int64_t>(), 10);
  stager.copy_to_device_buffer(second.rows, second.info);
  EXPECT_EQ(stager.device_buffer().data_ptr(), address);
  const Batch batch = stager.unpack_device_buffer();
  EXPECT_EQ(batch.input_ids[1][3].item<int64_t>(), 57);
  EXPECT_EQ(batch.row_keys[1].item<int64_t>(), 101);
  EXPECT_FALSE(batch.has_padding);  // rows packed to full length: attention without the mask
  StagedRows padded(2, 4, 10);
  padded.rows.input_mask[7] = 0;
  EXPECT_TRUE(stager.copy_to_device_buffer(padded.rows, padded.info));
  EXPECT_TRUE(stager.unpack_device_buffer().has_padding);
}

TEST(BatchStaging, ABatchOfAnotherShapeAfterCaptureIsRefusedNamingBothShapes) {
  BatchStager stager(at::kCPU);
  const StagedRows captured(2, 4, 10);
  stager.copy_to_device_buffer(captured.rows, captured.info);
  const void* address = stager.device_buffer().data_ptr();
  for (const StagedRows& other : {StagedRows(3, 4, 10), StagedRows(2, 8, 10)}) {
    try {
      stager.copy_to_device_buffer(other.rows, other.info);
      FAIL() << "a batch of another shape was staged";
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("captured for 2 rows x 4 tokens"), std::string::npos) << message;
      EXPECT_NE(message.find("--cuda-graph"), std::string::npos) << message;
    }
    EXPECT_EQ(stager.device_buffer().data_ptr(), address);
  }
}

}  // namespace
}  // namespace electra::train
