// What is saved and loaded lands on the right device (issue: the GPU path, items 1 and 3): the
// optimizer's state is loaded onto the optimizer's own device whatever device wrote it; models
// and optimizer states are written as host copies (the files say "cpu"), and writing them leaves
// the module where it was — the same storage, the same gradient accumulators (which carry the
// gradient reducer's hooks). The CUDA halves of these are in tests/gpu/train_step_gpu_test.cpp.
#include <gtest/gtest.h>

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>

#include "app/finetune/finetuned_model.h"
#include "app/model/electra_model.h"
#include "app/train/checkpoint_files.h"
#include "app/train/optimizer.h"
#include "app/train/training_checkpoint.h"
#include "test_util.h"
#include "unit/train/parameter_placement.h"

namespace electra::train {
namespace {

namespace fs = std::filesystem;

model::ModelConfig little_config() {
  model::ModelConfig config;
  config.vocab_size = 8, config.embedding_size = 4, config.max_position_embeddings = 8;
  config.discriminator = {8, 1, 2, 16};
  config.generator = {4, 1, 1, 8};
  return config;
}

// Every tensor of an archive file and the device its record names (loaded without a device).
std::vector<std::pair<std::string, c10::Device>> recorded_devices(const std::string& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  std::vector<std::pair<std::string, c10::Device>> devices;
  for (const auto& key : archive.keys()) {
    torch::Tensor tensor;
    if (archive.try_read(key, tensor)) devices.emplace_back(key, tensor.device());
  }
  return devices;
}

TEST(DevicePlacement, OptimizerStateLoadsOntoTheOptimizersDeviceWhateverWroteIt) {
  testing::TempDir dir;
  model::ElectraModel trained(little_config());
  for (auto& p : trained->parameters()) p.mutable_grad() = torch::full_like(p, 0.5);
  AdamW optimizer(*trained, AdamWOptions{});
  optimizer.step(0.1);
  optimizer.step(0.1);
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  save_archive_atomically(archive, dir / kOptimizerFile);
  for (const auto& [key, device] : recorded_devices(dir / kOptimizerFile)) {
    EXPECT_TRUE(device.is_cpu()) << key << " recorded on " << device;
  }

  model::ElectraModel resumed(little_config());
  AdamW restored(*resumed, AdamWOptions{});
  EXPECT_TRUE(restored.device().is_cpu());
  load_optimizer_file(dir.path().string(), restored, "do something");
  EXPECT_EQ(restored.steps_taken(), 2);
  ASSERT_EQ(restored.slots().size(), optimizer.slots().size());
  for (size_t i = 0; i < restored.slots().size(); ++i) {
    const auto& slot = restored.slots()[i];
    EXPECT_TRUE(slot.m.device().is_cpu()) << slot.name;
    EXPECT_TRUE(slot.m.equal(optimizer.slots()[i].m)) << slot.name;
    EXPECT_TRUE(slot.v.equal(optimizer.slots()[i].v)) << slot.name;
  }
}

TEST(DevicePlacement, ACheckpointsModelIsAHostCopyAndTheModelStaysInPlace) {
  testing::TempDir dir;
  testing::write_file(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\n");
  model::ElectraModel model(little_config());
  AdamW optimizer(*model, AdamWOptions{});  // flat storage, as in training
  const ParameterPlacement before(*model);
  write_model_files(*model, dir / "vocab.txt", dir / "checkpoint");
  const ParameterPlacement after(*model);
  EXPECT_EQ(after.storage, before.storage);
  EXPECT_EQ(after.accumulators, before.accumulators);
  for (const auto& [key, device] :
       recorded_devices((dir.path() / "checkpoint" / kModelFile).string())) {
    EXPECT_TRUE(device.is_cpu()) << key << " recorded on " << device;
  }
  // Written under Module::save's names: the reader of every checkpoint takes it back.
  const model::ElectraModel read = read_model(dir / "checkpoint");
  const auto written = model->named_parameters();
  for (const auto& p : read->named_parameters()) {
    EXPECT_TRUE(p.value().equal(written[p.key()])) << p.key();
  }
}

TEST(DevicePlacement, SavingAFineTunedModelLeavesItInPlaceAndLoadsBackEqual) {
  testing::TempDir dir;
  testing::write_file(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\n");
  finetune::FinetunedModel finetuned;
  finetuned.labels = finetune::LabelSet({"0", "1"});
  finetuned.create(little_config());
  const ParameterPlacement before(finetuned.module());
  finetune::save_finetuned(finetuned, dir / "vocab.txt", dir / "best");
  const ParameterPlacement after(finetuned.module());
  EXPECT_EQ(after.storage, before.storage);
  EXPECT_EQ(after.accumulators, before.accumulators);
  finetune::FinetunedModel loaded = finetune::load_finetuned(dir / "best");
  const auto written = finetuned.module().named_parameters();
  for (const auto& p : loaded.module().named_parameters()) {
    EXPECT_TRUE(p.value().device().is_cpu()) << p.key();
    EXPECT_TRUE(p.value().equal(written[p.key()])) << p.key();
  }
}

}  // namespace
}  // namespace electra::train
