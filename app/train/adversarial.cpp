#include "app/train/adversarial.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

namespace electra::train {

at::Tensor adversarial_rewards(const at::Tensor& disc_logits, const at::Tensor& replaced,
                               const at::Tensor& positions) {
  at::NoGradGuard no_grad;
  const at::Tensor logits = disc_logits.detach().to(at::kFloat).gather(1, positions);
  const at::Tensor labels = replaced.to(at::kFloat).gather(1, positions);
  return at::binary_cross_entropy_with_logits(logits, labels, /*weight=*/{}, /*pos_weight=*/{},
                                              at::Reduction::None);
}

ReinforceTerms reinforce_loss(const at::Tensor& logits, const at::Tensor& sampled,
                              const at::Tensor& weights, const at::Tensor& rewards, double baseline,
                              double entropy_weight, double denominator) {
  const at::Tensor w = weights.to(at::kFloat);
  const at::Tensor n =
      denominator > 0 ? at::full({}, denominator, w.options()) : w.sum().clamp_min(1e-5);
  const at::Tensor log_p = at::log_softmax(logits.to(at::kFloat), -1);  // [B, P, V]
  const at::Tensor log_p_sampled = log_p.gather(-1, sampled.unsqueeze(-1)).squeeze(-1);  // [B, P]
  const at::Tensor advantage = (rewards.detach().to(at::kFloat) - baseline) * w;
  at::Tensor loss = -(advantage * log_p_sampled).sum() / n;
  const at::Tensor entropy = -(log_p.exp() * log_p).sum(-1);  // [B, P]
  if (entropy_weight != 0) loss = loss - entropy_weight * (entropy * w).sum() / n;
  at::NoGradGuard no_grad;
  const at::Tensor count = w.sum().clamp_min(1e-5);
  return {loss, (rewards.to(at::kFloat) * w).sum() / count, (entropy.detach() * w).sum() / count};
}

}  // namespace electra::train
