// The per-position heads: the pretrained encoder copied, a logit pair (span) or one logit per
// label (token) at every position, the depths layer-wise decay reads.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "app/finetune/position_head_model.h"

namespace electra::finetune {
namespace {

TEST(PositionHeadModel, CopiesThePretrainedEncoderAndScoresEveryPosition) {
  const auto config = model::ModelConfig::load("tiny");
  torch::manual_seed(1);
  model::ElectraModel pair(config);
  PositionHeadModel span(config, PositionTask::kSpan);
  PositionHeadModel tagger(config, PositionTask::kToken, 5);
  span->load_encoder_from(*pair);
  const auto source = pair->named_parameters();
  for (const auto& item : span->named_parameters()) {
    if (item.key().rfind("head_", 0) == 0) continue;
    EXPECT_TRUE(item.value().equal(source[item.key()])) << item.key();
  }
  span->eval(), tagger->eval();
  const auto ids = torch::randint(1000, 2000, {3, 16}, torch::kLong);
  const auto mask = torch::ones_like(ids);
  EXPECT_EQ(span->forward(ids, torch::zeros_like(ids), mask).sizes(),
            (std::vector<int64_t>{3, 16, 2}));
  EXPECT_EQ(tagger->forward(ids, torch::zeros_like(ids), mask).sizes(),
            (std::vector<int64_t>{3, 16, 5}));
  const int layers = int(config.discriminator.num_hidden_layers);
  EXPECT_EQ(span->depth_of("head_out.weight"), layers + 1);
  EXPECT_EQ(span->depth_of("discriminator.encoder.layers.0.output.dense.weight"), 1);
  EXPECT_EQ(span->depth_of("embeddings.word_embeddings.weight"), 0);
  EXPECT_THROW(PositionHeadModel(config, PositionTask::kToken, 0), std::invalid_argument);
}

}  // namespace
}  // namespace electra::finetune
