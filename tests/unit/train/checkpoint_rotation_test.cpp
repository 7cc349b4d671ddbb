// A running pretrain rotates its checkpoints while export, finetune or inspect read them: a
// checkpoint being read survives the rotation, and a reader of the run takes the newer one.
#include <gtest/gtest.h>

#include <filesystem>

#include "app/model/model_config.h"
#include "app/train/checkpoint_files.h"
#include "test_util.h"

namespace electra::train {
namespace {

namespace fs = std::filesystem;

// Three complete checkpoints (steps 1-3) of a run holding a tiny model.
std::string run_with_checkpoints(const testing::TempDir& dir) {
  const std::string run = dir / "run";
  model::ModelConfig config;
  config.vocab_size = 8, config.embedding_size = 4, config.max_position_embeddings = 8;
  config.discriminator = {8, 1, 2, 16};
  config.generator = {4, 1, 1, 8};
  model::ElectraModel model(config);
  testing::write_file(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\n");
  for (long long step = 1; step <= 3; ++step) {
    const std::string checkpoint = checkpoint_path(run, step);
    write_model_files(*model, dir / "vocab.txt", checkpoint);
    mark_complete(checkpoint, {{"step", step}});
  }
  return run;
}

TEST(CheckpointRotation, KeepsTheNewestAndOneBeingRead) {
  testing::TempDir dir;
  const std::string run = run_with_checkpoints(dir);
  {
    CheckpointReadLock reading;
    ASSERT_TRUE(reading.lock(checkpoint_path(run, 1)));
    prune_checkpoints(run, 1);
    EXPECT_TRUE(fs::exists(checkpoint_path(run, 1)));   // held: left for the next rotation
    EXPECT_FALSE(fs::exists(checkpoint_path(run, 2)));  // not held: removed
    EXPECT_TRUE(fs::exists(checkpoint_path(run, 3)));
  }
  prune_checkpoints(run, 1);  // released: removed now
  EXPECT_FALSE(fs::exists(checkpoint_path(run, 1)));
  EXPECT_TRUE(fs::exists(checkpoint_path(run, 3)));
}

TEST(CheckpointRotation, AReaderOfARemovedCheckpointIsToldSo) {
  testing::TempDir dir;
  const std::string run = run_with_checkpoints(dir);
  CheckpointReadLock reading;
  const std::string gone = checkpoint_path(run, 1);
  fs::remove_all(gone);
  EXPECT_FALSE(reading.lock(gone));
  std::string read;
  auto model = read_checkpoint_model(run, &read);  // the run: its latest
  EXPECT_EQ(read, checkpoint_path(run, 3));
  EXPECT_EQ(model->config.vocab_size, 8);
}

}  // namespace
}  // namespace electra::train
