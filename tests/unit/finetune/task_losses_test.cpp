// The QA and tagging losses against values computed by hand.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "app/finetune/task_losses.h"

namespace electra::finetune {
namespace {

TEST(TaskLosses, SpanLossIsTheMeanOfStartAndEndCrossEntropyIgnoringOutsidePositions) {
  const float ln2 = std::log(2.0f);
  // Row 0: start uniform, target 1 -> ln 3; end [ln 2, 0, 0], target 0 -> -ln(2/4) = ln 2.
  // Row 1: start target 7 is outside the 3 positions: ignored; end uniform, target 2 -> ln 3.
  const at::Tensor start = at::zeros({2, 3});
  const at::Tensor end = at::tensor({ln2, 0.f, 0.f, 0.f, 0.f, 0.f}).reshape({2, 3});
  const at::Tensor starts = at::tensor({1L, 7L}), ends = at::tensor({0L, 2L});
  const double ln3 = std::log(3.0);
  EXPECT_NEAR(span_loss(start, end, starts, ends).item<double>(),
              (ln3 + (std::log(2.0) + ln3) / 2) / 2, 1e-6);
  // A global denominator of 4 rows replaces each term's own count (1 start row, 2 end rows).
  EXPECT_NEAR(span_loss(start, end, starts, ends, at::tensor(4.0f)).item<double>(),
              (ln3 / 4 + (std::log(2.0) + ln3) / 4) / 2, 1e-6);
}

TEST(TaskLosses, TokenLossSkipsIgnoredLabels) {
  // [0, 0] label 1 -> ln 2; [ln 3, 0] label 0 -> -ln(3/4); the third position is ignored.
  const at::Tensor logits =
      at::tensor({0.f, 0.f, std::log(3.0f), 0.f, 5.f, -5.f}).reshape({1, 3, 2});
  const at::Tensor labels = at::tensor({1L, 0L, -100L}).reshape({1, 3});
  const double expected = std::log(2.0) + std::log(4.0 / 3.0);
  EXPECT_NEAR(token_loss(logits, labels).item<double>(), expected / 2, 1e-6);
  EXPECT_NEAR(token_loss(logits, labels, at::tensor(4.0f)).item<double>(), expected / 4, 1e-6);
}

}  // namespace
}  // namespace electra::finetune
