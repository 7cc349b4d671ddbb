#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "app/train/evaluation.h"
#include "dist/communicator.h"

namespace electra::train {
namespace {

TEST(Evaluation, AucFromHistogramsCountsTiesAsHalf) {
  // Perfect separation, chance (same bins), and a hand-counted case.
  const double pos_high[3] = {0, 0, 4}, neg_low[3] = {5, 0, 0};
  EXPECT_DOUBLE_EQ(EvalTotals::auc(pos_high, neg_low, 3), 1.0);
  EXPECT_DOUBLE_EQ(EvalTotals::auc(neg_low, pos_high, 3), 0.0);
  const double same[3] = {1, 1, 1};
  EXPECT_DOUBLE_EQ(EvalTotals::auc(same, same, 3), 0.5);
  // Positives in bins 1, 2; negatives in bins 0, 1: pairs (p, n) won = 1*1 + 0.5*1*1 + 1*2 = 3.5
  // of 2 * 2 = 4.
  const double positives[3] = {0, 1, 1}, negatives[3] = {1, 1, 0};
  EXPECT_DOUBLE_EQ(EvalTotals::auc(positives, negatives, 3), 3.5 / 4);
}

TEST(Evaluation, MetricsOfAHandMadeBatch) {
  // One sequence of 4 real tokens + 1 padding; tokens 1 and 2 replaced. The discriminator says
  // "replaced" (logit > 0) for tokens 1 and 3, and for the padding (which must not count).
  StepOutput out;
  out.corrupted.replaced = at::tensor({0.f, 1.f, 1.f, 0.f, 0.f}).view({1, 5});
  out.disc_logits = at::tensor({-3.f, 2.f, -1.f, 1.f, 5.f}).view({1, 5});
  const at::Tensor input_mask = at::tensor({1, 1, 1, 1, 0}).view({1, 5});
  // Two masked slots and one padding slot over a vocabulary of 3: slot 0 right, slot 1 wrong.
  out.masked.weights = at::tensor({1.f, 1.f, 0.f}).view({1, 3});
  out.masked.targets = at::tensor({2L, 0L, 0L}).view({1, 3});
  out.generator_logits = at::tensor({0.f, 0.f, 5.f, 0.f, 4.f, 0.f, 9.f, 0.f, 0.f}).view({1, 3, 3});
  EvalTotals totals;
  totals.add(out, input_mask);
  auto single = dist::make_single_process_communicator();
  totals.reduce(*single);
  const EvalMetrics m = totals.metrics();
  EXPECT_DOUBLE_EQ(m.mlm_accuracy, 0.5);
  const double nll0 = -std::log(std::exp(5.0) / (2 + std::exp(5.0)));
  const double nll1 = -std::log(1 / (1 + 1 + std::exp(4.0)));
  EXPECT_NEAR(m.mlm_loss, (nll0 + nll1) / 2, 1e-5);
  EXPECT_DOUBLE_EQ(m.disc_accuracy, 0.5);  // tokens 0 and 1 right, 2 and 3 wrong
  EXPECT_DOUBLE_EQ(m.disc_precision, 0.5);
  EXPECT_DOUBLE_EQ(m.disc_recall, 0.5);
  EXPECT_DOUBLE_EQ(m.replaced_fraction, 0.5);
  // Scores: replaced {2, -1}, original {-3, 1}: pairs won (2>-3, 2>1, -1>-3) = 3 of 4.
  EXPECT_DOUBLE_EQ(m.disc_auc, 0.75);
  const auto bce = [](double logit, double label) {
    const double p = 1 / (1 + std::exp(-logit));
    return -(label * std::log(p) + (1 - label) * std::log(1 - p));
  };
  EXPECT_NEAR(m.disc_loss, (bce(-3, 0) + bce(2, 1) + bce(-1, 1) + bce(1, 0)) / 4, 1e-5);
  EXPECT_EQ(m.examples, 1);
  EXPECT_EQ(m.tokens, 4);
}

}  // namespace
}  // namespace electra::train
