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
                              const at::Tensor& weights, const at::Tensor& rewards,
                              const at::Tensor& baseline, double entropy_weight,
                              const at::Tensor& denominator) {
  const at::Tensor w = weights.to(at::kFloat);
  const at::Tensor n = denominator.defined() ? denominator : w.sum().clamp_min(1e-5);
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

RewardBaseline::RewardBaseline(double decay, at::Device device)
    : decay_(decay),
      value_(at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device))),
      updates_(at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device))) {}

double RewardBaseline::value() const {
  return value_.item<double>();
}

int64_t RewardBaseline::updates() const {
  return int64_t(updates_.item<double>());
}

void RewardBaseline::update(const at::Tensor& mean_reward, const at::Tensor& apply) {
  at::NoGradGuard no_grad;
  const at::Tensor mean = mean_reward.to(at::kDouble);
  const at::Tensor moved = at::where(updates_.eq(0), mean, value_ * decay_ + mean * (1 - decay_));
  if (apply.defined()) {
    at::where_out(value_, apply, moved, value_);
    updates_.add_(apply.to(at::kDouble));
  } else {
    value_.copy_(moved);
    updates_.add_(1);
  }
}

void RewardBaseline::update(double mean_reward) {
  update(at::scalar_tensor(mean_reward, value_.options()));
}

void RewardBaseline::restore(double value, int64_t updates) {
  value_.fill_(value);
  updates_.fill_(double(updates));
}

}  // namespace electra::train
