// The training step on CUDA (skipped without a GPU): under bf16 autocast the losses stay close to
// fp32's on the same batch and masks, the generator's vocabulary logits stay fp32, gradients are
// finite and land in the fp32 parameters; a short data-parallel-ready Trainer run works on CUDA.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "app/model/autocast.h"
#include "app/train/electra_step.h"
#include "app/train/masking.h"
#include "app/train/metrics_log.h"
#include "test_util.h"

namespace electra::train {
namespace {

TEST(GpuStep, Bf16AutocastMatchesFp32WithinBf16Precision) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(3);
  model::ElectraModel pair(model::ModelConfig::load("small"));
  pair->to(torch::kCUDA);
  pair->eval();  // no dropout: both passes see the same network
  const auto options = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kLong);
  const Batch batch{torch::randint(1000, 30000, {8, 128}, options), torch::ones({8, 128}, options),
                    torch::zeros({8, 128}, options)};
  StepOptions step;
  step.masking.max_predictions = max_predictions_per_seq(0.15, 128);
  const std::vector<uint64_t> keys{1, 2, 3, 4, 5, 6, 7, 8};
  const StepOutput fp32 = electra_forward(*pair, batch, step, RowRandom(keys));
  StepOutput bf16;
  {
    model::CudaBf16Autocast autocast(true);
    bf16 = electra_forward(*pair, batch, step, RowRandom(keys));
  }
  EXPECT_TRUE(bf16.masked.positions.equal(fp32.masked.positions));  // the same masks
  EXPECT_EQ(bf16.generator_logits.scalar_type(), torch::kFloat);
  const double a = fp32.mlm_loss.item<double>(), b = bf16.mlm_loss.item<double>();
  EXPECT_NEAR(b, a, 0.02 * a);
  EXPECT_NEAR(bf16.disc_loss.item<double>(), fp32.disc_loss.item<double>(),
              0.05 * fp32.disc_loss.item<double>() + 1e-3);
  bf16.total.backward();
  for (const auto& p : pair->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
  }
}

TEST(GpuPretrain, AShortBf16RunOfElectraSmallTrainsAndCheckpoints) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  electra::testing::TempDir dir;
  const std::string electra = ELECTRA_BINARY, data = (dir.path() / "data").string(),
                    run = (dir.path() / "run").string();
  const auto prepared = electra::testing::run_shell(
      electra + " prepare --input " + std::string(ELECTRA_DATA_DIR) +
      "/sample/mobydick.txt --out " + data + " --seq-len 128 --shards 2 --val-fraction 0.05");
  ASSERT_EQ(prepared.exit_code, 0) << prepared.output;
  const auto trained = electra::testing::run_shell(
      electra + " pretrain --model small --data " + data + " --out " + run +
      " --train-steps 60 --warmup-steps 20 --batch-size 32 --learning-rate 5e-4 --log-every 20 "
      "--eval-every 60 --save-every 60 --eval-examples 64");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  std::vector<nlohmann::json> train;
  for (const auto& record : read_metrics(run + "/metrics.jsonl")) {
    if (record["kind"] == "train") train.push_back(record);
  }
  ASSERT_EQ(train.size(), 3u);
  EXPECT_LT(train.back()["loss"].get<double>(), train.front()["loss"].get<double>());
  std::printf("ELECTRA-Small bf16, batch 32 x 128: %.0f tokens/s at step 60\n",
              train.back()["tokens_per_s"].get<double>());
  EXPECT_TRUE(std::filesystem::exists(run + "/checkpoints/step-00000060/COMPLETE"));
}

}  // namespace
}  // namespace electra::train
