// The training step on CUDA (skipped without a GPU; failed under ELECTRA_REQUIRE_GPU=1): under
// bf16 autocast the losses stay close to fp32's on the same batch and masks, the generator's
// vocabulary logits stay fp32, gradients are finite and land in the fp32 parameters; the row-keyed
// random numbers and masks are the same on CPU and CUDA; a short Trainer run works on CUDA, and 20
// steps captured in a CUDA graph train as 20 eager ones; a step that cannot be captured falls back
// to eager; checkpoints move between CUDA and the CPU, and saving leaves the model in place; a
// step makes the host wait for the device nowhere outside the boundary check.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <ATen/SDPBackend.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/_fused_sdp_choice.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/csrc/autograd/variable.h>

#include <functional>
#include <stdexcept>

#include "app/finetune/finetuned_model.h"
#include "app/model/autocast.h"
#include "app/train/checkpoint_files.h"
#include "app/train/cuda_graph.h"
#include "app/train/electra_step.h"
#include "app/train/fp32_matmul.h"
#include "app/train/masking.h"
#include "app/train/metrics_log.h"
#include "app/train/op_census.h"
#include "app/train/optimizer.h"
#include "app/train/rank_device.h"
#include "app/train/trainer.h"
#include "app/train/training_checkpoint.h"
#include "dist/communicator.h"
#include "gpu/gpu_test_util.h"
#include "test_util.h"
#include "unit/train/parameter_placement.h"

namespace electra::train {
namespace {

// ELECTRA-Small on the GPU in eval mode (no dropout: two passes see the same network) and one
// batch of 8 x 128 with its masking options and row keys.
struct SmallOnGpu {
  model::ElectraModel pair{nullptr};
  Batch batch;
  StepOptions step;
  std::vector<uint64_t> keys{1, 2, 3, 4, 5, 6, 7, 8};
  SmallOnGpu() {
    torch::manual_seed(3);
    pair = model::ElectraModel(model::ModelConfig::load("small"));
    pair->to(torch::kCUDA);
    pair->eval();
    const auto options = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kLong);
    batch = Batch{torch::randint(1000, 30000, {8, 128}, options), torch::ones({8, 128}, options),
                  torch::zeros({8, 128}, options)};
    step.masking.max_predictions = max_predictions_per_seq(0.15, 128);
  }
  StepOutput forward(bool bf16) {
    model::CudaBf16Autocast autocast(bf16);
    return electra_forward(*pair, batch, step, RowRandom(keys));
  }
};

TEST(GpuStep, Bf16AutocastMatchesFp32WithinBf16Precision) {
  ELECTRA_NEED_CUDA();
  SmallOnGpu small;
  auto& pair = small.pair;
  const StepOutput fp32 = small.forward(false);
  StepOutput bf16 = small.forward(true);
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

// --fp32-matmul tf32 (the default): the fp32 matmuls on tensor cores change the losses by no more
// than TF32's rounding.
TEST(GpuStep, Tf32MatmulsKeepTheLossesWithinTolerance) {
  ELECTRA_NEED_CUDA();
  SmallOnGpu small;
  const auto losses = [&](const char* fp32_matmul) {
    use_cuda_fp32_matmul(fp32_matmul);
    const StepOutput out = small.forward(true);
    return std::pair{out.mlm_loss.item<double>(), out.disc_loss.item<double>()};
  };
  const auto ieee = losses("ieee");
  const auto tf32 = losses("tf32");
  std::printf("MLM loss ieee %.6f tf32 %.6f; disc loss ieee %.6f tf32 %.6f\n", ieee.first,
              tf32.first, ieee.second, tf32.second);
  EXPECT_NEAR(tf32.first, ieee.first, 2e-3 * ieee.first);
  EXPECT_NEAR(tf32.second, ieee.second, 5e-3 * ieee.second + 1e-4);
}

// The embedded sample text prepared under `dir` as a corpus of 128-token rows; its folder.
std::string sample_corpus(const std::filesystem::path& dir) {
  const std::string data = (dir / "data").string();
  const auto prepared = electra::testing::run_shell(
      std::string(ELECTRA_BINARY) + " prepare --input " + std::string(ELECTRA_DATA_DIR) +
      "/sample/mobydick.txt --out " + data + " --seq-len 128 --shards 2 --val-fraction 0.05");
  if (prepared.exit_code != 0) throw std::runtime_error("electra prepare: " + prepared.output);
  return data;
}

TEST(GpuPretrain, AShortBf16RunOfElectraSmallTrainsAndCheckpoints) {
  ELECTRA_NEED_CUDA();
  electra::testing::TempDir dir;
  const std::string electra = ELECTRA_BINARY, data = sample_corpus(dir.path()),
                    run = (dir.path() / "run").string();
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
                                         const std::string& extra, std::string* said = nullptr) {
  const auto trained = electra::testing::run_shell(
      std::string(ELECTRA_BINARY) + " pretrain --model small --data " + data + " --out " + run +
      " --train-steps 20 --warmup-steps 5 --batch-size 16 --learning-rate 5e-4 --log-every 1 "
      "--eval-every 0 --save-every 0 --eval-examples 16 --set hidden_dropout_prob=0 "
      "--set attention_probs_dropout_prob=0 " +
      extra);
  EXPECT_EQ(trained.exit_code, 0) << trained.output;
  if (said) *said = trained.output;
  std::vector<nlohmann::json> train;
  for (const auto& record : read_metrics(run + "/metrics.jsonl")) {
    if (record["kind"] == "train") train.push_back(record);
  }
  return train;
}

// Four steps of ELECTRA-Small on CUDA under the operator census (whole-word masking: its
// choices go to the device as well): no step makes the host wait for the device outside the
// boundary check, and the evaluation after the last step waits once, for its totals.
TEST(GpuProfile, NoHostSyncInAStepAndOneInAnEvaluation) {
  ELECTRA_NEED_CUDA();
  electra::testing::TempDir dir;
  const std::string data = sample_corpus(dir.path());
  TrainConfig config;
  config.model = model::ModelConfig::load("small");
  config.data_dir = data, config.out_dir = (dir.path() / "run").string();
  config.vocab_path = std::string(ELECTRA_DATA_DIR) + "/vocab/bert-base-uncased-vocab.txt";
  config.train_steps = 4, config.warmup_steps = 1, config.batch_size = 8;
  config.log_every = 4, config.eval_every = 0, config.save_every = 0, config.eval_examples = 32;
  config.whole_word_masking = true;
  auto world = dist::make_world_communicator();
  Trainer trainer(config, *world, ResumeMode::kIfPresent);
  OpCensus census;
  trainer.run();
  for (long long step = 1; step <= config.train_steps; ++step) {
    long long syncs = 0;
    for (const auto phase : kStepPhases) {
      if (phase != StepPhase::kCheck) syncs += census.counts(step, phase).syncs;
    }
    EXPECT_EQ(syncs, 0) << "step " << step;
  }
  EXPECT_EQ(census.total(StepPhase::kEvaluation).syncs, 1);
}

TEST(GpuGraph, TwentyCapturedStepsTrainAsTwentyEagerOnes) {
  ELECTRA_NEED_CUDA();
  electra::testing::TempDir dir;
  const std::string data = sample_corpus(dir.path());
  const auto eager = twenty_steps(data, (dir.path() / "eager").string(), "");
  std::string said;
  const auto graph = twenty_steps(data, (dir.path() / "graph").string(), "--cuda-graph", &said);
  // The run says when it captured and whether its attention takes the mask.
  const auto captured = said.find("the step is captured in a CUDA graph");
  ASSERT_NE(captured, std::string::npos) << said;
  std::printf("%s\n", said.substr(captured, said.find('\n', captured) - captured).c_str());
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

// Bytes the caching allocator holds for tensors on GPU 0 now.
int64_t cuda_bytes_in_use() {
  return c10::cuda::CUDACachingAllocator::getDeviceStats(0)
      .allocated_bytes[size_t(c10::CachingAllocator::StatType::AGGREGATE)]
      .current;
}

TEST(GpuCheckpoint, OptimizerStateMovesFromCudaToCpuAndBack) {
  ELECTRA_NEED_CUDA();
  electra::testing::TempDir dir;
  torch::manual_seed(5);
  model::ElectraModel on_gpu(model::ModelConfig::load("tiny"));
  on_gpu->to(torch::kCUDA);
  for (auto& p : on_gpu->parameters()) p.mutable_grad() = torch::full_like(p, 0.25);
  AdamW written(*on_gpu, AdamWOptions{});
  written.step(0.1);
  {
    torch::serialize::OutputArchive archive;
    written.save(archive);
    save_archive_atomically(archive, dir / kOptimizerFile);
  }
  // CUDA-saved -> CPU-loaded, without touching the GPU (no context, no copy on cuda:0).
  model::ElectraModel on_cpu(model::ModelConfig::load("tiny"));
  AdamW restored(*on_cpu, AdamWOptions{});
  const int64_t before = cuda_bytes_in_use();
  load_optimizer_file(dir.path().string(), restored, "");
  EXPECT_EQ(cuda_bytes_in_use(), before);
  EXPECT_EQ(restored.steps_taken(), 1);
  for (size_t i = 0; i < restored.slots().size(); ++i) {
    EXPECT_TRUE(restored.slots()[i].m.device().is_cpu());
    EXPECT_TRUE(restored.slots()[i].m.equal(written.slots()[i].m.cpu())) << i;
  }
  // CPU-saved -> CUDA-loaded.
  electra::testing::TempDir again;
  {
    torch::serialize::OutputArchive archive;
    restored.save(archive);
    save_archive_atomically(archive, again / kOptimizerFile);
  }
  model::ElectraModel back(model::ModelConfig::load("tiny"));
  back->to(torch::kCUDA);
  AdamW on_device(*back, AdamWOptions{});
  load_optimizer_file(again.path().string(), on_device, "");
  for (size_t i = 0; i < on_device.slots().size(); ++i) {
    EXPECT_TRUE(on_device.slots()[i].v.is_cuda());
    EXPECT_TRUE(on_device.slots()[i].v.equal(written.slots()[i].v)) << i;
  }
}

// Fine-tuning saves its best epoch while training goes on: the model must stay where it is (a
// move would reset the gradient accumulators that carry the gradient reducer's hooks).
TEST(GpuCheckpoint, SavingTheBestModelLeavesItsWeightsAndAccumulatorsOnTheGpu) {
  ELECTRA_NEED_CUDA();
  electra::testing::TempDir dir;
  electra::testing::write_file(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
  finetune::FinetunedModel finetuned;
  finetuned.labels = finetune::LabelSet({"0", "1"});
  finetuned.create(model::ModelConfig::load("tiny"));
  finetuned.module().to(torch::kCUDA);
  const ParameterPlacement before(finetuned.module());
  finetune::save_finetuned(finetuned, dir / "vocab.txt", dir / "best");
  const ParameterPlacement after(finetuned.module());
  EXPECT_EQ(after.storage, before.storage);
  EXPECT_EQ(after.accumulators, before.accumulators);
  EXPECT_TRUE(finetuned.module().parameters().front().is_cuda());
  finetune::FinetunedModel loaded = finetune::load_finetuned(dir / "best");
  const auto trained = finetuned.module().named_parameters();
  for (const auto& p : loaded.module().named_parameters()) {
    EXPECT_TRUE(p.value().device().is_cpu()) << p.key();
    EXPECT_TRUE(p.value().equal(trained[p.key()].cpu())) << p.key();
  }
}

TEST(GpuRankDevice, ASingleProcessTakesItsFirstVisibleGpu) {
  ELECTRA_NEED_CUDA();
  const auto alone = dist::make_single_process_communicator();
  EXPECT_EQ(device_for(*alone, "cuda"), torch::Device(torch::kCUDA, 0));
  EXPECT_EQ(device_for(*alone, "auto"), torch::Device(torch::kCUDA, 0));
}

// A step that cannot be captured: the capture is ended and dropped, the step runs eagerly then
// and on every later call, and CUDA works on (no capture left open, no allocation sent to the
// dead graph's pool). `bad` makes the capture fail.
void falls_back_to_eager(const std::function<void(const at::Tensor&)>& bad) {
  StepGraph graph(torch::Device(torch::kCUDA, 0), /*eager_steps=*/1);
  at::Tensor counter = torch::zeros({}, torch::TensorOptions().device(torch::kCUDA));
  int host_calls = 0;
  const auto step = [&] {
    ++host_calls;
    counter.add_(1);
    // A draw from the CUDA generator (as dropout makes): the capture puts the generator in
    // capture mode, which the failed capture must undo.
    (void)torch::rand({4}, torch::TensorOptions().device(torch::kCUDA));
    if (host_calls == 2) bad(counter);  // the call being captured
  };
  graph.run(step);  // eager
  graph.run(step);  // the capture fails, then this call's step runs eagerly
  EXPECT_FALSE(graph.captured());
  graph.run(step);
  graph.run(step);
  EXPECT_EQ(host_calls, 5);  // 1 eager + the failed capture + its eager run + 2 eager calls
  EXPECT_EQ(counter.item<float>(), 4.0f);  // nothing of the capture ran
  EXPECT_TRUE(at::autocast::is_autocast_cache_enabled());
  const at::Tensor later = torch::ones({1 << 20}, torch::TensorOptions().device(torch::kCUDA));
  EXPECT_EQ(later.sum().item<float>(), float(1 << 20));
}

TEST(GpuGraph, AThrowDuringCaptureFallsBackToEager) {
  ELECTRA_NEED_CUDA();
  falls_back_to_eager([](const at::Tensor&) { throw std::runtime_error("a step that throws"); });
}

TEST(GpuGraph, AHostSyncDuringCaptureFallsBackToEager) {
  ELECTRA_NEED_CUDA();
  falls_back_to_eager([](const at::Tensor& counter) { (void)counter.item<float>(); });
}

TEST(GpuGraph, AutocastKeepsItsCacheOutsideTheCapturedStep) {
  ELECTRA_NEED_CUDA();
  StepGraph graph(torch::Device(torch::kCUDA, 0), /*eager_steps=*/0);
  at::Tensor x = torch::ones({4}, torch::TensorOptions().device(torch::kCUDA));
  bool cache_during_capture = true;
  graph.run([&] {
    cache_during_capture = at::autocast::is_autocast_cache_enabled();
    x.mul_(2);
  });
  EXPECT_TRUE(graph.captured());
  EXPECT_FALSE(cache_during_capture);
  EXPECT_TRUE(at::autocast::is_autocast_cache_enabled());  // evaluation and eager steps keep it
  graph.run([] {});
  EXPECT_EQ(x.sum().item<float>(), 16.0f);  // captured (x2, replayed at once) and replayed (x2)
}

// Why a batch without padding attends without the mask: the fused kernels SDPA picks for
// ELECTRA-Small's attention in bf16 — without a mask flash attention (or cuDNN's), with the
// additive padding mask not flash (it takes no arbitrary mask).
TEST(GpuAttention, WithoutAMaskSdpaPicksAFlashKernel) {
  ELECTRA_NEED_CUDA();
  const auto options = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kBFloat16);
  const at::Tensor q = torch::randn({16, 4, 128, 64}, options), k = torch::randn_like(q),
                   v = torch::randn_like(q);
  const at::Tensor mask = torch::zeros({16, 1, 1, 128}, options);
  const auto without = static_cast<at::SDPBackend>(at::_fused_sdp_choice(q, k, v, {}, 0.1));
  const auto with = static_cast<at::SDPBackend>(at::_fused_sdp_choice(q, k, v, mask, 0.1));
  std::printf(
      "SDPA backend without a mask %d, with the padding mask %d (1 flash, 2 efficient, "
      "3 cuDNN)\n",
      int(without), int(with));
  EXPECT_TRUE(without == at::SDPBackend::flash_attention ||
              without == at::SDPBackend::cudnn_attention);
  EXPECT_NE(with, at::SDPBackend::flash_attention);
}

}  // namespace
}  // namespace electra::train
