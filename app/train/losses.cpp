#include "app/train/losses.h"

#include <ATen/Functions.h>

namespace electra::train {

at::Tensor mlm_loss(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& weights,
                    const at::Tensor& denominator) {
  const at::Tensor log_probs = at::log_softmax(logits.to(at::kFloat), -1);             // [B, P, V]
  const at::Tensor picked = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1);  // [B, P]
  const at::Tensor w = weights.to(at::kFloat);
  if (denominator.defined()) return (picked * w).sum() / denominator;
  return (picked * w).sum() / w.sum().clamp_min(1e-5);
}

at::Tensor discriminator_loss(const at::Tensor& logits, const at::Tensor& replaced,
                              const at::Tensor& input_mask, const at::Tensor& denominator) {
  const at::Tensor mask = input_mask.to(at::kFloat);
  const at::Tensor per_token =
      at::binary_cross_entropy_with_logits(logits.to(at::kFloat), replaced.to(at::kFloat),
                                           /*weight=*/{}, /*pos_weight=*/{}, at::Reduction::None);
  if (denominator.defined()) return (per_token * mask).sum() / denominator;
  return (per_token * mask).sum() / mask.sum().clamp_min(1.0);
}

}  // namespace electra::train
