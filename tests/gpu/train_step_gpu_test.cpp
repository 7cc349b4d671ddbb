// The training step on CUDA (skipped without a GPU; failed under ELECTRA_REQUIRE_GPU=1): under
// bf16 autocast the losses stay close to fp32's on the same batch and masks, the generator's
// vocabulary logits stay fp32, gradients are finite and land in the fp32 parameters; the row-keyed
// random numbers and masks are the same on CPU and CUDA; a short Trainer run works on CUDA, and 20
// steps captured in a CUDA graph train as 20 eager ones.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "app/model/autocast.h"
#include "app/train/electra_step.h"
#include "app/train/masking.h"
#include "app/train/metrics_log.h"
#include "gpu/gpu_test_util.h"
#include "test_util.h"

namespace electra::train {
namespace {

TEST(GpuStep, Bf16AutocastMatchesFp32WithinBf16Precision) {
  ELECTRA_NEED_CUDA();
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
  ELECTRA_NEED_CUDA();
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

TEST(GpuRandom, CpuAndCudaDrawTheSameNumbersAndMasks) {
  ELECTRA_NEED_CUDA();
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < 64; ++i) keys.push_back(counter_hash(99, i));
  const StepDraws cpu = RowRandom(keys).step_draws(64, 128, 19, torch::kCPU);
  const StepDraws cuda = RowRandom(keys, torch::kCUDA).step_draws(64, 128, 19, torch::kCUDA);
  EXPECT_TRUE(cuda.position_scores.cpu().equal(cpu.position_scores));
  EXPECT_TRUE(cuda.keep_uniforms.cpu().equal(cpu.keep_uniforms));
  EXPECT_TRUE(cuda.sample_uniforms.cpu().equal(cpu.sample_uniforms));
  auto ids = torch::randint(1000, 30000, {64, 128}, torch::kLong);
  ids.select(1, 0).fill_(101);
  auto mask = torch::ones_like(ids);
  mask.narrow(1, 100, 28).zero_();  // padded rows
  MaskingOptions options;
  options.max_predictions = 19;
  const MaskedBatch on_cpu = mask_batch(ids, mask, options, RowRandom(keys));
  const MaskedBatch on_cuda =
      mask_batch(ids.cuda(), mask.cuda(), options, RowRandom(keys, torch::kCUDA));
  EXPECT_TRUE(on_cuda.positions.cpu().equal(on_cpu.positions));
  EXPECT_TRUE(on_cuda.generator_input.cpu().equal(on_cpu.generator_input));
  // The same samples from the same (fp32) logits.
  const auto logits = torch::randn({64, 19, 30522});
  EXPECT_TRUE(sample_tokens(logits.cuda(), 1.0, on_cuda.sample_uniforms)
                  .cpu()
                  .equal(sample_tokens(logits, 1.0, on_cpu.sample_uniforms)));
}

// The train records of a 20-step ELECTRA-Small run on the GPU (dropout off: the two runs draw
// the same numbers), with or without --cuda-graph.
std::vector<nlohmann::json> twenty_steps(const std::string& data, const std::string& run,
                                         const std::string& extra) {
  const auto trained = electra::testing::run_shell(
      std::string(ELECTRA_BINARY) + " pretrain --model small --data " + data + " --out " + run +
      " --train-steps 20 --warmup-steps 5 --batch-size 16 --learning-rate 5e-4 --log-every 1 "
      "--eval-every 0 --save-every 0 --eval-examples 16 --set hidden_dropout_prob=0 "
      "--set attention_probs_dropout_prob=0 " +
      extra);
  EXPECT_EQ(trained.exit_code, 0) << trained.output;
  std::vector<nlohmann::json> train;
  for (const auto& record : read_metrics(run + "/metrics.jsonl")) {
    if (record["kind"] == "train") train.push_back(record);
  }
  return train;
}

TEST(GpuGraph, TwentyCapturedStepsTrainAsTwentyEagerOnes) {
  ELECTRA_NEED_CUDA();
  electra::testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  const auto prepared = electra::testing::run_shell(
      std::string(ELECTRA_BINARY) + " prepare --input " + std::string(ELECTRA_DATA_DIR) +
      "/sample/mobydick.txt --out " + data + " --seq-len 128 --shards 2 --val-fraction 0.05");
  ASSERT_EQ(prepared.exit_code, 0) << prepared.output;
  const auto eager = twenty_steps(data, (dir.path() / "eager").string(), "");
  const auto graph = twenty_steps(data, (dir.path() / "graph").string(), "--cuda-graph");
  ASSERT_EQ(eager.size(), 20u);
  ASSERT_EQ(graph.size(), 20u);
  double worst = 0;
  for (size_t i = 0; i < eager.size(); ++i) {
    for (const char* field : {"loss", "mlm_loss", "disc_loss", "grad_norm"}) {
      const double a = eager[i][field].get<double>(), b = graph[i][field].get<double>();
      worst = std::max(worst, std::abs(a - b) / std::max(std::abs(a), 1e-12));
    }
  }
  std::printf(
      "20 steps, eager vs captured: largest relative difference %.3g; %.0f vs %.0f "
      "tokens/s at step 20\n",
      worst, eager.back()["tokens_per_s"].get<double>(),
      graph.back()["tokens_per_s"].get<double>());
  // The same computation; only the attention kernels' (non-deterministic) backward can differ.
  EXPECT_LT(worst, 1e-3);
}

}  // namespace
}  // namespace electra::train
