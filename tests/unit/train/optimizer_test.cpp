#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cmath>
#include <sstream>

#include "app/model/electra_model.h"
#include "app/train/optimizer.h"

namespace electra::train {
namespace {

struct TwoLayers : torch::nn::Module {
  TwoLayers() {
    dense = register_module("dense", torch::nn::Linear(3, 2));
    norm = register_module("layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({2})));
  }
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};

TEST(AdamW, OneStepAsTheReferenceWithoutBiasCorrection) {
  TwoLayers net;
  torch::NoGradGuard init;
  net.dense->weight.fill_(0.5);
  const auto before_bias = net.dense->bias.clone();
  net.dense->weight.mutable_grad() = torch::full_like(net.dense->weight, 0.2);
  net.dense->bias.mutable_grad() = torch::full_like(net.dense->bias, -0.4);
  AdamW optimizer(net, AdamWOptions{});
  optimizer.step(0.1);
  // m = 0.1 g, v = 0.001 g^2, update = m / (sqrt(v) + eps) (+ 0.01 w for weights only).
  const double g = 0.2, m = 0.1 * g, v = 0.001 * g * g;
  const double weight_update = m / (std::sqrt(v) + 1e-6) + 0.01 * 0.5;
  EXPECT_NEAR(net.dense->weight[0][0].item<double>(), 0.5 - 0.1 * weight_update, 1e-6);
  const double gb = -0.4, mb = 0.1 * gb, vb = 0.001 * gb * gb;
  EXPECT_NEAR(net.dense->bias[0].item<double>(),
              before_bias[0].item<double>() - 0.1 * (mb / (std::sqrt(vb) + 1e-6)), 1e-6);
  EXPECT_TRUE(net.norm->weight.eq(1).all().item<bool>());  // no gradient: untouched
}

TEST(AdamW, LambScalesEachUpdateByItsTrustRatio) {
  TwoLayers net;
  torch::NoGradGuard init;
  net.dense->weight.copy_(torch::tensor({{1.0f, -2.0f, 0.5f}, {0.0f, 3.0f, -1.0f}}));
  const torch::Tensor w = net.dense->weight.clone();
  const torch::Tensor g = torch::tensor({{0.2f, -0.1f, 0.3f}, {0.05f, 0.0f, -0.4f}});
  net.dense->weight.mutable_grad() = g.clone();
  AdamWOptions options;
  options.lamb = true;
  AdamW optimizer(net, options);
  optimizer.step(0.1);
  const torch::Tensor update = (0.1 * g) / ((0.001 * g * g).sqrt() + 1e-6) + 0.01 * w;
  const double ratio = w.norm().item<double>() / update.norm().item<double>();
  EXPECT_TRUE(net.dense->weight.allclose(w - 0.1 * ratio * update, 1e-5, 1e-6));
}

TEST(AdamW, SavesAndLoadsItsMomentsByParameterName) {
  TwoLayers net;
  net.dense->weight.mutable_grad() = torch::full_like(net.dense->weight, 0.2);
  AdamW optimizer(net, AdamWOptions{});
  optimizer.step(0.1);
  optimizer.step(0.1);
  torch::serialize::OutputArchive out;
  optimizer.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  TwoLayers other;
  AdamW restored(other, AdamWOptions{});
  torch::serialize::InputArchive in;
  std::istringstream input(bytes.str());
  in.load_from(input);
  restored.load(in);
  EXPECT_EQ(restored.steps_taken(), 2);
  EXPECT_TRUE(restored.slots()[0].m.equal(optimizer.slots()[0].m));
  EXPECT_TRUE(restored.slots()[0].v.equal(optimizer.slots()[0].v));
}

TEST(AdamW, LayerNormAndBiasesTakeNoWeightDecay) {
  EXPECT_TRUE(excluded_from_weight_decay("embeddings.layer_norm.weight"));
  EXPECT_TRUE(excluded_from_weight_decay("discriminator.encoder.layers.0.attention_norm.weight"));
  EXPECT_TRUE(excluded_from_weight_decay("discriminator.head_dense.bias"));
  EXPECT_TRUE(excluded_from_weight_decay("generator.output_bias"));
  EXPECT_FALSE(excluded_from_weight_decay("discriminator.head_dense.weight"));
  EXPECT_FALSE(excluded_from_weight_decay("embeddings.word_embeddings.weight"));
}

TEST(AdamW, SharedEmbeddingsAreUpdatedOnce) {
  model::ElectraModel pair(model::ModelConfig::load("tiny"));
  AdamW optimizer(*pair, AdamWOptions{});
  int word_embeddings = 0;
  for (const auto& slot : optimizer.slots())
    word_embeddings += slot.name.find("word_embeddings") != std::string::npos;
  EXPECT_EQ(word_embeddings, 1);
  EXPECT_EQ(optimizer.slots().size(), pair->parameters().size());
}

TEST(Schedule, WarmupAndDecayMultiply) {
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(1e-3, 0, 100, 1000), 0.0);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(1e-3, 50, 100, 1000), 1e-3 * 0.5 * 0.95);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(1e-3, 100, 100, 1000), 1e-3 * 0.9);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(1e-3, 1000, 100, 1000), 0.0);
}

TEST(Clipping, ScalesTheGlobalNorm) {
  TwoLayers net;
  net.dense->weight.mutable_grad() = torch::full_like(net.dense->weight, 3.0);  // norm 6 * 3^2
  net.dense->bias.mutable_grad() = torch::full_like(net.dense->bias, 4.0);
  const double norm = clip_gradient_norm(net, 1.0).item<double>();
  EXPECT_NEAR(norm, std::sqrt(6 * 9.0 + 2 * 16.0), 1e-5);
  const double after = std::sqrt(net.dense->weight.grad().pow(2).sum().item<double>() +
                                 net.dense->bias.grad().pow(2).sum().item<double>());
  EXPECT_NEAR(after, 1.0, 1e-5);
}

}  // namespace
}  // namespace electra::train
