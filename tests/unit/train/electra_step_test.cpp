#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "app/train/electra_step.h"
#include "app/train/optimizer.h"

namespace electra::train {
namespace {

Batch fixed_batch(int64_t batch, int64_t length) {
  auto ids = at::randint(1000, 2000, {batch, length}, at::kLong);
  auto mask = at::ones({batch, length}, at::kLong);
  ids.select(1, 0).fill_(101);
  ids.select(1, length - 1).fill_(102);
  mask.narrow(1, length - 4, 4).zero_();  // some padding
  ids.narrow(1, length - 4, 4).zero_();
  ids.select(1, length - 5).fill_(102);
  return {ids, mask, at::zeros_like(ids)};
}

StepOptions step_options(int64_t length) {
  StepOptions options;
  options.masking.max_predictions = max_predictions_per_seq(0.15, length);
  return options;
}

TEST(ElectraStep, OnlyTheSharedEmbeddingsCarryTheDiscriminatorLossIntoTheGenerator) {
  auto config = model::ModelConfig::load("tiny");
  model::ElectraModel pair(config);
  const auto batch = fixed_batch(4, 32);
  auto out = electra_forward(*pair, batch, step_options(32));
  out.disc_loss.backward();
  // The generator's own parameters get no gradient from the discriminator loss...
  for (const auto& p : pair->generator->parameters()) {
    EXPECT_TRUE(!p.grad().defined() || p.grad().abs().sum().item<double>() == 0);
  }
  // ...the shared embeddings do.
  EXPECT_GT(pair->embeddings->word_embeddings->weight.grad().abs().sum().item<double>(), 0);
}

TEST(ElectraStep, PaddingNeverContributesAndShapesAreStatic) {
  auto config = model::ModelConfig::load("tiny");
  model::ElectraModel pair(config);
  const auto batch = fixed_batch(3, 32);
  const auto out = electra_forward(*pair, batch, step_options(32));
  EXPECT_EQ(out.generator_logits.sizes(), (std::vector<int64_t>{3, 4, config.vocab_size}));
  EXPECT_TRUE(
      out.corrupted.replaced.masked_select(batch.input_mask.eq(0)).eq(0).all().item<bool>());
  EXPECT_TRUE(
      out.corrupted.input_ids.masked_select(batch.input_mask.eq(0)).eq(0).all().item<bool>());
}

TEST(ElectraStep, TrainingReducesTheLossOnAFixedBatch) {
  auto config = model::ModelConfig::load("tiny");
  config.set("hidden_dropout_prob=0");
  config.set("attention_probs_dropout_prob=0");
  model::ElectraModel pair(config);
  AdamW optimizer(*pair, AdamWOptions{});
  const auto batch = fixed_batch(8, 32);
  auto options = step_options(32);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    pair->zero_grad();
    auto out = electra_forward(*pair, batch, options, RowRandom(generator));
    out.total.backward();
    clip_gradient_norm(*pair, 1.0);
    optimizer.step(2e-3);
    (step == 0 ? first : last) = out.mlm_loss.item<double>();
  }
  // The generator learns the batch's tokens: the MLM loss falls well below ln(30522) = 10.3.
  EXPECT_LT(last, first - 2.0) << "first " << first << ", last " << last;
}

}  // namespace
}  // namespace electra::train
