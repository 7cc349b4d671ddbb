#include "app/finetune/task_losses.h"

#include <ATen/ATen.h>

namespace electra::finetune {
namespace {

// Summed cross-entropy of logits [N, C] against targets [N] over the targets != ignored, divided
// by their count or by `denominator`.
at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& targets, int64_t ignored,
                         const at::Tensor& denominator) {
  const at::Tensor sum = at::cross_entropy_loss(logits.to(at::kFloat), targets, /*weight=*/{},
                                                at::Reduction::Sum, ignored);
  if (denominator.defined()) return sum / denominator;
  return sum / targets.ne(ignored).sum().to(at::kFloat);
}

}  // namespace

at::Tensor span_loss(const at::Tensor& start_logits, const at::Tensor& end_logits,
                     const at::Tensor& start_positions, const at::Tensor& end_positions,
                     const at::Tensor& denominator) {
  const int64_t length = start_logits.size(1);
  const auto clamped = [&](const at::Tensor& positions) {
    // Outside [0, L): L, the ignored index.
    return at::where(positions.lt(0) | positions.ge(length), at::full_like(positions, length),
                     positions);
  };
  return (cross_entropy(start_logits, clamped(start_positions), length, denominator) +
          cross_entropy(end_logits, clamped(end_positions), length, denominator)) /
         2;
}

at::Tensor token_loss(const at::Tensor& logits, const at::Tensor& labels,
                      const at::Tensor& denominator) {
  return cross_entropy(logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}), -100,
                       denominator);
}

}  // namespace electra::finetune
