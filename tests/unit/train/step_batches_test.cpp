// The step batches prepared on their own thread: the same rows, keys, counts and whole-word
// choices as the loader read inline would give, across an epoch's end and from a resumed
// position; prepared ahead before anyone asks; an error of the thread reaching the trainer.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "app/train/step_batches.h"
#include "app/train/whole_word_masking.h"
#include "data/seed_hash.h"
#include "test_util.h"
#include "unit/data/numbered_corpus.h"

namespace electra::train {
namespace {

constexpr long long kBatch = 32, kAccum = 2;
// 490 rows: 15 batches an epoch, so an epoch ends within a step (step 8 takes epoch 0's last batch
// and epoch 1's first).
const std::vector<int> kShards = {300, 190};

StepBatchOptions options(bool whole_words) {
  StepBatchOptions o;
  o.batch_size = kBatch, o.grad_accum = kAccum, o.seed = 5;
  o.masking.max_predictions = 2, o.masking.mask_prob = 0.3;
  o.masking.cls_id = 2, o.masking.sep_id = 3, o.masking.mask_id = 4;
  if (whole_words) {  // every odd id continues the word before it
    o.continuation.assign(data::vocab().size(), 0);
    for (size_t id = 11; id < o.continuation.size(); id += 2) o.continuation[id] = 1;
  }
  return o;
}

data::BatchLoader loader(const std::string& dir) {
  data::BatchLoaderOptions o;
  o.batch_size = kBatch, o.block_rows = 50, o.seed = 9;
  return data::BatchLoader(dir, data::vocab(), true, o);
}

// What the trainer did inline before: the step's micro-batches from the loader, a new epoch where
// one ends, then the keys and counts.
struct InlineSteps {
  data::BatchLoader& loader;
  StepBatchOptions o;
  long long epoch = 0, epoch_rows = 0;

  PreparedStep next(long long step) {
    PreparedStep expected;
    expected.step = step;
    for (long long micro = 0; micro < kAccum; ++micro) {
      data::RowBatch rows;
      if (!loader.next(rows)) {
        ++epoch, epoch_rows = 0;
        loader.start_epoch(epoch);
        loader.next(rows);
      }
      epoch_rows += loader.global_batch_rows();
      HostBatchInfo info;
      for (long long i = 0; i < kBatch; ++i) {
        info.row_keys.push_back(
            data::mix_seed(o.seed, uint64_t(step - 1), uint64_t(micro * kBatch + i)));
      }
      if (!o.continuation.empty()) {
        BatchWordChoice words =
            choose_whole_words(rows.input_ids.data(), rows.input_mask.data(), rows.rows,
                               rows.length, o.continuation, o.masking, info.row_keys);
        info.counts = words.counts, info.mask_positions = words.positions;
        info.keep_original = words.keep;
      } else {
        for (long long r = 0; r < rows.rows; ++r) {
          info.counts.push_back(int32_t(prediction_count(rows.input_ids.data() + r * rows.length,
                                                         rows.input_mask.data() + r * rows.length,
                                                         rows.length, o.masking)));
        }
      }
      for (long long r = 0; r < rows.rows; ++r) expected.counts[0] += info.counts[size_t(r)];
      expected.counts[1] += double(rows.rows * 4);  // 4 real tokens a row
      expected.micro_rows.push_back(std::move(rows));
      expected.infos.push_back(std::move(info));
    }
    expected.epoch = epoch, expected.epoch_rows = epoch_rows;
    return expected;
  }
};

void expect_same(const PreparedStep& got, const PreparedStep& expected) {
  SCOPED_TRACE("step " + std::to_string(expected.step));
  EXPECT_EQ(got.step, expected.step);
  ASSERT_EQ(got.micro_rows.size(), expected.micro_rows.size());
  for (size_t m = 0; m < got.micro_rows.size(); ++m) {
    EXPECT_EQ(got.micro_rows[m].input_ids, expected.micro_rows[m].input_ids);
    EXPECT_EQ(got.micro_rows[m].input_mask, expected.micro_rows[m].input_mask);
    EXPECT_EQ(got.infos[m].row_keys, expected.infos[m].row_keys);
    EXPECT_EQ(got.infos[m].counts, expected.infos[m].counts);
    EXPECT_EQ(got.infos[m].mask_positions, expected.infos[m].mask_positions);
    EXPECT_EQ(got.infos[m].keep_original, expected.infos[m].keep_original);
  }
  EXPECT_EQ(got.counts[0], expected.counts[0]);
  EXPECT_EQ(got.counts[1], expected.counts[1]);
  EXPECT_EQ(got.epoch, expected.epoch);
  EXPECT_EQ(got.epoch_rows, expected.epoch_rows);
}

class StepBatchesTest : public ::testing::TestWithParam<bool> {};  // whole-word masking or not

TEST_P(StepBatchesTest, GiveWhatTheLoaderReadInlineGivesAcrossAnEpochsEnd) {
  testing::TempDir dir;
  data::write_corpus(dir.path().string(), kShards);
  auto reference = loader(dir.path().string()), ours = loader(dir.path().string());
  reference.start_epoch(0);
  InlineSteps inline_steps{reference, options(GetParam())};
  StepBatches prepared(ours, options(GetParam()), 1, 0, 0);
  long long counted = 0;
  for (long long step = 1; step <= 16; ++step) {  // 32 batches: into the third epoch
    const PreparedStep got = prepared.next();
    expect_same(got, inline_steps.next(step));
    if (step == 8) {  // epoch 0's last batch, then epoch 1's first
      EXPECT_EQ(got.epoch, 1);
      EXPECT_EQ(got.epoch_rows, kBatch);
    }
    counted += (long long)got.counts[0];
  }
  EXPECT_EQ(inline_steps.epoch, 2);
  EXPECT_GT(counted, 0);
  if (GetParam()) {
    const PreparedStep got = prepared.next();
    EXPECT_EQ(got.infos[0].mask_positions.size(), size_t(kBatch * 2));  // [B, P]
  }
}

TEST_P(StepBatchesTest, StartAtAResumedPositionAsTheRunWouldHaveGoneOn) {
  testing::TempDir dir;
  data::write_corpus(dir.path().string(), kShards);
  auto whole_run = loader(dir.path().string()), resumed = loader(dir.path().string());
  StepBatches from_start(whole_run, options(GetParam()), 1, 0, 0);
  PreparedStep fifth;
  for (int step = 1; step <= 5; ++step) fifth = from_start.next();
  // The position a checkpoint after step 4 holds: epoch 0, 4 steps x 64 rows.
  StepBatches from_checkpoint(resumed, options(GetParam()), 5, 0, 4 * kAccum * kBatch);
  expect_same(from_checkpoint.next(), fifth);
  expect_same(from_checkpoint.next(), from_start.next());
}

INSTANTIATE_TEST_SUITE_P(Masking, StepBatchesTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "WholeWords" : "Tokens"; });

TEST(StepBatches, AreReadyAheadBeforeTheTrainerAsks) {
  testing::TempDir dir;
  data::write_corpus(dir.path().string());
  auto rows = loader(dir.path().string());
  StepBatchOptions o = options(false);
  o.steps_ahead = 3;
  StepBatches prepared(rows, o, 1, 0, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (prepared.ready() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(prepared.ready(), 3u);  // and no further: the queue is bounded
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(prepared.ready(), 3u);
  EXPECT_EQ(prepared.next().step, 1);
}  // destroyed with a full queue: its thread stops

TEST(StepBatches, RowKeysAreTheRowsSlotsInTheStepsGlobalBatch) {
  StepBatchOptions o;
  o.rank = 1, o.world = 2, o.batch_size = 4, o.seed = 7;
  // Step 3, micro-batch 1 of rank 1: slots (1 x 2 + 1) x 4 = 12..15 of the global batch.
  const auto keys = train_row_keys(o, 3, 1);
  ASSERT_EQ(keys.size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(keys[i], data::mix_seed(7, 2, 12 + i));
}

// Row `id` of the numbered corpus made to carry a token id outside the vocabulary, in place (the
// shard stores ids as uint16 for this vocabulary, without compression).
void damage_row(const std::filesystem::path& shard, long long id) {
  std::fstream file(shard, std::ios::in | std::ios::out | std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(file), {}};
  const uint16_t row[4] = {2, uint16_t(10 + id % 1000), uint16_t(10 + id / 1000), 3};
  const size_t at = bytes.find(std::string(reinterpret_cast<const char*>(row), sizeof row));
  ASSERT_NE(at, std::string::npos) << "row " << id << " not found in " << shard;
  const uint16_t outside = 65535;
  file.clear();
  file.seekp(std::streamoff(at + 2));
  file.write(reinterpret_cast<const char*>(&outside), sizeof outside);
}

TEST(StepBatches, ALoaderErrorOnTheThreadReachesTheTrainer) {
  testing::TempDir dir;
  data::write_corpus(dir.path().string(), {300, 170});
  auto rows = loader(dir.path().string());
  damage_row(dir.path() / "train-00001.h5", 400);  // after the loader opened it
  StepBatches prepared(rows, options(false), 1, 0, 0);
  try {
    for (int step = 0; step < 20; ++step) prepared.next();  // every row is read within 8 steps
    FAIL() << "the damaged row was not reported";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("train-00001.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("token id 65535"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace electra::train
