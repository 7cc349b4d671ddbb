// Two-stage training's pieces (app/train/two_stage.h): the model it trains, the copy at the stage
// boundary, which network each stage freezes, and the per-stage learning-rate schedule.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <map>
#include <string>

#include "app/train/electra_step.h"
#include "app/train/optimizer.h"
#include "app/train/train_config.h"
#include "app/train/two_stage.h"

namespace electra::train {
namespace {

model::ModelConfig two_stage_tiny() {
  return two_stage_model(model::ModelConfig::load("tiny"));
}

Batch some_batch() {
  at::manual_seed(3);
  auto ids = at::randint(1000, 2000, {4, 32}, at::kLong);
  ids.select(1, 0).fill_(101);
  ids.select(1, 31).fill_(102);
  return {ids, at::ones({4, 32}, at::kLong), at::zeros({4, 32}, at::kLong)};
}

StepOptions options_for(Objective objective) {
  StepOptions options;
  options.masking.max_predictions = max_predictions_per_seq(0.15, 32);
  options.objective = objective;
  return options;
}

std::map<std::string, at::Tensor> snapshot(torch::nn::Module& module) {
  std::map<std::string, at::Tensor> values;
  for (const auto& item : module.named_parameters()) values[item.key()] = item.value().clone();
  return values;
}

// How many of the module's parameters differ from the snapshot.
int changed(torch::nn::Module& module, const std::map<std::string, at::Tensor>& before) {
  int n = 0;
  for (const auto& item : module.named_parameters())
    n += !item.value().equal(before.at(item.key()));
  return n;
}

// One optimiser step of the objective, with weight decay (which would move any parameter it
// visits). Every parameter has a gradient, zero where the loss does not reach, as in training
// (the gradient reducer's buckets): only freezing keeps AdamW away.
void train_once(model::ElectraModelImpl& pair, Objective objective) {
  for (auto& p : pair.parameters()) p.mutable_grad() = at::zeros_like(p);
  AdamW optimizer(pair, AdamWOptions{});
  const StepOutput out = electra_forward(pair, some_batch(), options_for(objective));
  out.total.backward();
  optimizer.step(1e-3);
}

TEST(TwoStage, TheGeneratorTakesTheDiscriminatorsSizeAndEmbeddingsOfItsOwn) {
  const model::ModelConfig configured = model::ModelConfig::load("tiny");
  ASSERT_NE(configured.generator.hidden_size, configured.discriminator.hidden_size);
  const model::ModelConfig config = two_stage_tiny();
  EXPECT_EQ(config.generator.hidden_size, configured.discriminator.hidden_size);
  EXPECT_EQ(config.generator.num_hidden_layers, configured.discriminator.num_hidden_layers);
  EXPECT_EQ(config.generator.num_attention_heads, configured.discriminator.num_attention_heads);
  EXPECT_EQ(config.generator.intermediate_size, configured.discriminator.intermediate_size);
  EXPECT_FALSE(config.share_embeddings);
  EXPECT_EQ(model::ModelConfig::from_json(config.to_json(), "test").share_embeddings, false);

  model::ElectraModel pair(config);
  ASSERT_TRUE(pair->generator_embeddings);
  EXPECT_EQ(pair->generator->embeddings.get(), pair->generator_embeddings.get());
  EXPECT_EQ(pair->discriminator->embeddings.get(), pair->embeddings.get());
  EXPECT_FALSE(pair->generator_embeddings->word_embeddings->weight.equal(
      pair->embeddings->word_embeddings->weight));
  // The joint pair keeps one table.
  EXPECT_FALSE(model::ElectraModel(configured)->generator_embeddings);
}

TEST(TwoStage, TheBoundaryCopiesTheGeneratorIntoTheDiscriminatorButNotItsHead) {
  model::ElectraModel pair(two_stage_tiny());
  const auto generator = snapshot(*pair->generator);
  const auto head_dense = pair->discriminator->head_dense->weight.clone();
  const auto head_prediction = pair->discriminator->head_prediction->weight.clone();
  initialise_discriminator_from_generator(*pair);

  int copied = 0;
  const auto discriminator = pair->discriminator->named_parameters();
  for (const auto& item : pair->generator->named_parameters()) {
    if (item.key().rfind("head_", 0) == 0 || item.key() == "output_bias") continue;
    EXPECT_TRUE(discriminator[item.key()].equal(item.value())) << item.key();
    ++copied;
  }
  EXPECT_GT(copied, 16);  // 4 layers x (8 weights + 8 biases) + the projection
  const auto own = pair->embeddings->named_parameters();
  for (const auto& item : pair->generator_embeddings->named_parameters()) {
    EXPECT_TRUE(own[item.key()].equal(item.value())) << item.key();
  }
  EXPECT_EQ(changed(*pair->generator, generator), 0);
  EXPECT_TRUE(pair->discriminator->head_dense->weight.equal(head_dense));
  EXPECT_TRUE(pair->discriminator->head_prediction->weight.equal(head_prediction));

  // The two stacks now compute the same hidden states.
  pair->eval();
  const Batch batch = some_batch();
  EXPECT_TRUE(
      pair->generator->encode(batch.input_ids, batch.segment_ids, batch.input_mask)
          .last_hidden.equal(
              pair->discriminator->encode(batch.input_ids, batch.segment_ids, batch.input_mask)
                  .last_hidden));
}

TEST(TwoStage, ABoundaryNeedsTheTwoStageModel) {
  model::ElectraModel joint(model::ModelConfig::load("tiny"));
  EXPECT_THROW(initialise_discriminator_from_generator(*joint), std::logic_error);
}

TEST(TwoStage, TheFirstStageTrainsTheGeneratorAloneAndLeavesTheDiscriminatorAsItIs) {
  model::ElectraModel pair(two_stage_tiny());
  enter_phase(*pair, TwoStagePhase::kGenerator);
  const auto discriminator = snapshot(*pair->discriminator);
  const auto embeddings = snapshot(*pair->embeddings);
  const auto generator = snapshot(*pair->generator);
  const auto generator_embeddings = snapshot(*pair->generator_embeddings);
  const StepOutput out =
      electra_forward(*pair, some_batch(), options_for(Objective::kGeneratorOnly));
  EXPECT_FALSE(out.disc_loss.defined());
  EXPECT_FALSE(out.disc_logits.defined());
  EXPECT_TRUE(out.total.equal(out.mlm_loss));
  train_once(*pair, Objective::kGeneratorOnly);
  EXPECT_EQ(changed(*pair->discriminator, discriminator), 0);
  EXPECT_EQ(changed(*pair->embeddings, embeddings), 0);
  EXPECT_GT(changed(*pair->generator, generator), 0);
  EXPECT_GT(changed(*pair->generator_embeddings, generator_embeddings), 0);
}

TEST(TwoStage, TheSecondStageFreezesTheGeneratorWhileTheDiscriminatorTrains) {
  model::ElectraModel pair(two_stage_tiny());
  initialise_discriminator_from_generator(*pair);
  enter_phase(*pair, TwoStagePhase::kDiscriminator);
  for (const auto& p : pair->generator->parameters()) EXPECT_FALSE(p.requires_grad());
  for (const auto& p : pair->generator_embeddings->parameters()) EXPECT_FALSE(p.requires_grad());
  for (const auto& p : pair->discriminator->parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_FALSE(pair->generator->is_training());  // a fixed sampler: no dropout
  EXPECT_FALSE(pair->generator_embeddings->is_training());
  EXPECT_TRUE(pair->discriminator->is_training());
  EXPECT_TRUE(pair->embeddings->is_training());

  const auto generator = snapshot(*pair->generator);
  const auto generator_embeddings = snapshot(*pair->generator_embeddings);
  const auto discriminator = snapshot(*pair->discriminator);
  const auto embeddings = snapshot(*pair->embeddings);
  const StepOutput out =
      electra_forward(*pair, some_batch(), options_for(Objective::kDiscriminatorOnly));
  EXPECT_TRUE(out.total.equal(out.disc_loss));  // the RTD loss alone
  EXPECT_FALSE(out.generator_logits.requires_grad());
  for (int step = 0; step < 2; ++step) train_once(*pair, Objective::kDiscriminatorOnly);
  EXPECT_EQ(changed(*pair->generator, generator), 0);
  EXPECT_EQ(changed(*pair->generator_embeddings, generator_embeddings), 0);
  EXPECT_GT(changed(*pair->discriminator, discriminator), 0);
  EXPECT_GT(changed(*pair->embeddings, embeddings), 0);
}

TEST(TwoStage, EachStageHasItsOwnWarmupAndDecay) {
  EXPECT_EQ(phase_of_step(1, 10), TwoStagePhase::kGenerator);
  EXPECT_EQ(phase_of_step(5, 10), TwoStagePhase::kGenerator);
  EXPECT_EQ(phase_of_step(6, 10), TwoStagePhase::kDiscriminator);
  EXPECT_EQ(phase_of_step(10, 10), TwoStagePhase::kDiscriminator);
  for (long long step = 0; step < 5; ++step) {
    EXPECT_DOUBLE_EQ(two_stage_learning_rate(1.0, step, 2, 10),
                     scheduled_learning_rate(1.0, step, 2, 5));
    EXPECT_DOUBLE_EQ(two_stage_learning_rate(1.0, step + 5, 2, 10),
                     scheduled_learning_rate(1.0, step, 2, 5));
  }
  EXPECT_DOUBLE_EQ(two_stage_learning_rate(1.0, 2, 2, 10), 0.6);  // warmed up, 2 of 5 decayed
}

TEST(TwoStage, AnOddNumberOfStepsIsRefusedNamingTheOption) {
  TrainConfig config;
  config.strategy = "two-stage";
  config.train_steps = 11;
  try {
    config.validate();
    FAIL() << "an odd --train-steps passed";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--train-steps must be even with --strategy two-stage"),
              std::string::npos)
        << e.what();
  }
  config.train_steps = 12;
  EXPECT_NO_THROW(config.validate());
}

}  // namespace
}  // namespace electra::train
