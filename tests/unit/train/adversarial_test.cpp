#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <vector>

#include "app/train/adversarial.h"

namespace electra::train {
namespace {

// A hand-made batch: 1 sequence, 3 prediction slots (the third padding), vocabulary of 4.
struct HandBatch {
  at::Tensor logits = at::tensor({0.5, -1.0, 2.0, 0.0,  //
                                  1.5, 0.2, -0.3, 0.7,  //
                                  0.0, 0.0, 0.0, 0.0})
                          .reshape({1, 3, 4})
                          .requires_grad_(true);
  at::Tensor sampled = at::tensor({2, 0, 1}, at::kLong).reshape({1, 3});
  at::Tensor weights = at::tensor({1.0f, 1.0f, 0.0f}).reshape({1, 3});
  at::Tensor rewards = at::tensor({1.2f, 0.1f, 5.0f}).reshape({1, 3});
};

// The REINFORCE gradient written out by hand, position by position:
// -(r - b)(onehot(s) - p)/n + beta p (log p + H)/n, zero where the weight is zero.
std::vector<double> expected_gradient(const HandBatch& b, double baseline, double beta) {
  const at::Tensor logits = b.logits.detach().to(at::kDouble);
  const double n = b.weights.sum().item<double>();
  std::vector<double> gradient;
  for (int64_t t = 0; t < 3; ++t) {
    std::vector<double> p(4);
    double z = 0;
    for (int64_t v = 0; v < 4; ++v) z += std::exp(logits[0][t][v].item<double>());
    double entropy = 0;
    for (int64_t v = 0; v < 4; ++v) {
      p[v] = std::exp(logits[0][t][v].item<double>()) / z;
      entropy -= p[v] * std::log(p[v]);
    }
    const double w = b.weights[0][t].item<double>();
    const double advantage = b.rewards[0][t].item<double>() - baseline;
    for (int64_t v = 0; v < 4; ++v) {
      const double onehot = v == b.sampled[0][t].item<int64_t>() ? 1.0 : 0.0;
      gradient.push_back(
          w * (-advantage * (onehot - p[v]) + beta * p[v] * (std::log(p[v]) + entropy)) / n);
    }
  }
  return gradient;
}

void expect_gradient(const HandBatch& b, double baseline, double beta) {
  const auto terms =
      reinforce_loss(b.logits, b.sampled, b.weights, b.rewards, at::scalar_tensor(baseline), beta);
  terms.loss.backward();
  const auto expected = expected_gradient(b, baseline, beta);
  const at::Tensor got = b.logits.grad().reshape({-1});
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(got[int64_t(i)].item<double>(), expected[i], 1e-6) << "logit " << i;
  }
  // The padding slot gets nothing whatever its reward.
  EXPECT_EQ(b.logits.grad()[0][2].abs().sum().item<double>(), 0.0);
}

TEST(Reinforce, TheGeneratorLossHasTheReinforceGradient) {
  expect_gradient(HandBatch(), /*baseline=*/0.0, /*beta=*/0.0);
}

TEST(Reinforce, TheBaselineAndTheEntropyBonusEnterAsDerived) {
  expect_gradient(HandBatch(), /*baseline=*/0.4, /*beta=*/0.05);
}

TEST(Reinforce, MeansAreOverTheMaskedPositions) {
  HandBatch b;
  const auto terms = reinforce_loss(b.logits, b.sampled, b.weights, b.rewards,
                                    /*baseline=*/at::scalar_tensor(0.0), 0.0);
  EXPECT_NEAR(terms.mean_reward.item<double>(), (1.2 + 0.1) / 2, 1e-6);
  EXPECT_FALSE(terms.mean_reward.requires_grad());
  EXPECT_GT(terms.entropy.item<double>(), 0.0);
  EXPECT_LT(terms.entropy.item<double>(), std::log(4.0));
}

TEST(Reinforce, RewardsAreTheDiscriminatorsCrossEntropyAndCarryNoGradient) {
  // 1 sequence of 5 tokens; positions 1 and 3 were masked; position 3 was replaced.
  const at::Tensor disc_logits = at::tensor({0.0f, -2.0f, 1.0f, 0.5f, 3.0f}).reshape({1, 5});
  const at::Tensor leaf = disc_logits.clone().requires_grad_(true);
  const at::Tensor replaced = at::tensor({0.0f, 0.0f, 0.0f, 1.0f, 0.0f}).reshape({1, 5});
  const at::Tensor positions = at::tensor({1, 3}, at::kLong).reshape({1, 2});
  const at::Tensor rewards = adversarial_rewards(leaf, replaced, positions);
  // original token: -log(1 - sigmoid(x)) = log(1 + e^x); replaced: -log sigmoid(x) = log(1 + e^-x)
  EXPECT_NEAR(rewards[0][0].item<double>(), std::log1p(std::exp(-2.0)), 1e-6);
  EXPECT_NEAR(rewards[0][1].item<double>(), std::log1p(std::exp(-0.5)), 1e-6);
  EXPECT_FALSE(rewards.requires_grad());
}

TEST(Reinforce, TheBaselineIsAMovingAverageOfTheMeanReward) {
  RewardBaseline baseline(0.9);
  EXPECT_EQ(baseline.value(), 0.0);
  baseline.update(2.0);
  EXPECT_DOUBLE_EQ(baseline.value(), 2.0);
  baseline.update(1.0);
  EXPECT_DOUBLE_EQ(baseline.value(), 0.9 * 2.0 + 0.1 * 1.0);
  RewardBaseline resumed(0.9);
  resumed.restore(baseline.value(), baseline.updates());
  resumed.update(0.0), baseline.update(0.0);
  EXPECT_DOUBLE_EQ(resumed.value(), baseline.value());
  EXPECT_EQ(resumed.updates(), 3);
}

}  // namespace
}  // namespace electra::train
