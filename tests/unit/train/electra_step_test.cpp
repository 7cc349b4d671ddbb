#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <limits>

#include "app/model/autocast.h"
#include "app/train/electra_step.h"
#include "app/train/losses.h"
#include "app/train/op_census.h"
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

// CPU bf16 autocast stands in for CUDA's: the same dispatch, the same lists of bf16 operators.
TEST(Precision, UnderBf16AutocastTheVocabularyProjectionSamplingAndLossesStayFp32) {
  torch::manual_seed(4);
  model::ElectraModel pair(model::ModelConfig::load("tiny"));
  pair->eval();
  const auto batch = fixed_batch(4, 32);
  const std::vector<uint64_t> keys = {1, 2, 3, 4};
  StepOutput out;
  at::Tensor hidden, head;  // what the generator's head saw, under autocast
  {
    model::Bf16Autocast autocast(c10::DeviceType::CPU, true);
    out = electra_forward(*pair, batch, step_options(32), RowRandom(keys));
    hidden =
        pair->generator->encode(out.masked.generator_input, batch.segment_ids, batch.input_mask)
            .last_hidden;
    const auto index = out.masked.positions.unsqueeze(-1).expand({-1, -1, hidden.size(2)});
    auto& g = *pair->generator;
    head = model::normalize(g.head_norm, torch::gelu(g.head_dense(hidden.gather(1, index))));
    // The encoder did run in bf16 (its matrix products; LayerNorm gives fp32).
    EXPECT_EQ(g.head_dense(hidden).scalar_type(), at::kBFloat16);
    // The logits of the step are the fp32 product of the head's output, not a bf16 one.
    const at::Tensor again = g.logits_at(hidden, out.masked.positions);
    EXPECT_EQ(again.scalar_type(), at::kFloat);
    model::Fp32Region fp32;
    const at::Tensor expected =
        at::addmm(g.output_bias, head.to(at::kFloat).view({-1, head.size(-1)}),
                  g.embeddings->word_embeddings->weight.t())
            .view(again.sizes());
    EXPECT_TRUE(again.equal(expected)) << (again - expected).abs().max().item<double>();
  }
  EXPECT_EQ(out.generator_logits.scalar_type(), at::kFloat);
  EXPECT_EQ(out.mlm_loss.scalar_type(), at::kFloat);
  EXPECT_EQ(out.disc_loss.scalar_type(), at::kFloat);
  // Outside autocast, the same logits give the same loss and the same samples.
  EXPECT_TRUE(
      out.mlm_loss.equal(mlm_loss(out.generator_logits, out.masked.targets, out.masked.weights)));
  EXPECT_TRUE(out.corrupted_samples.equal(
      sample_tokens(out.generator_logits, 1.0, out.masked.sample_uniforms)));
}

TEST(Precision, TheAttentionBiasIsTheComputeDtypesLowestFiniteValue) {
  const auto mask = at::tensor({1, 1, 0}, at::kLong).unsqueeze(0);
  for (const auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
    const at::Tensor bias = model::attention_bias_from_mask(mask, dtype);
    EXPECT_EQ(bias.scalar_type(), dtype);
    EXPECT_TRUE(at::isfinite(bias).all().item<bool>()) << dtype;
    EXPECT_EQ(bias[0][0][0][0].item<double>(), 0.0);
    EXPECT_LT(bias[0][0][0][2].item<double>(), -6e4);
  }
  EXPECT_EQ(model::attention_bias_from_mask(mask, at::kBFloat16)[0][0][0][2].item<double>(),
            -3.3895313892515355e38);
  // Under autocast the encoder builds it in bf16 (the dtype attention computes in there), and a
  // padded batch stays finite.
  torch::manual_seed(4);
  model::ElectraModel pair(model::ModelConfig::load("tiny"));
  pair->eval();
  const auto batch = fixed_batch(2, 32);
  model::Bf16Autocast autocast(c10::DeviceType::CPU, true);
  EXPECT_EQ(model::compute_dtype(at::zeros({1})), at::kBFloat16);
  const auto logits =
      pair->discriminator->forward(batch.input_ids, batch.segment_ids, batch.input_mask);
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
}

TEST(ElectraStep, ABatchWithoutPaddingPassesNoMaskAndComputesTheSame) {
  torch::manual_seed(4);
  model::ElectraModel pair(model::ModelConfig::load("tiny"));
  pair->eval();
  Batch batch = fixed_batch(3, 32);
  batch.input_mask.fill_(1);  // no padding
  const std::vector<uint64_t> keys = {8, 9, 10};
  const StepOutput with_mask = electra_forward(*pair, batch, step_options(32), RowRandom(keys));
  batch.has_padding = false;
  const StepOutput without = electra_forward(*pair, batch, step_options(32), RowRandom(keys));
  EXPECT_TRUE(without.disc_logits.allclose(with_mask.disc_logits, 1e-5, 1e-6));
  EXPECT_NEAR(without.total.item<double>(), with_mask.total.item<double>(),
              1e-5 * with_mask.total.item<double>());
}

TEST(ElectraStep, MaskingAndSamplingTakeAFixedNumberOfCallsWhateverTheBatch) {
  model::ElectraModel pair(model::ModelConfig::load("tiny"));
  long long calls[2] = {0, 0};
  int i = 0;
  for (const int64_t rows : {4, 64}) {
    std::vector<uint64_t> keys(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) keys[size_t(r)] = uint64_t(r) * 7919;
    Batch batch = fixed_batch(rows, 32);
    batch.row_keys = RowRandom(keys).hash(at::zeros({1}, at::kLong)).squeeze(1);  // any keys
    // As the trainer: the counts come with the batch (the host counted them).
    batch.prediction_counts =
        prediction_counts(batch.input_ids, batch.input_mask, step_options(32).masking);
    electra_forward(*pair, batch, step_options(32));  // warm (the draws' counters are cached)
    OpCensus census;
    electra_forward(*pair, batch, step_options(32));
    const auto counts = census.total(StepPhase::kMaskingSampling);
    calls[i++] = counts.calls;
    if (rows == 64) {
      for (const auto& [name, n] : counts.by_operator) std::printf("  %s %lld\n", name.c_str(), n);
    }
  }
  std::printf("masking + sampling: %lld operator calls (4 rows), %lld (64 rows)\n", calls[0],
              calls[1]);
  EXPECT_EQ(calls[0], calls[1]);
  EXPECT_LE(calls[1], 60);
}

}  // namespace
}  // namespace electra::train
