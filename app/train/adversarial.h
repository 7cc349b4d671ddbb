// The adversarial generator (ELECTRA paper, appendix F; `--strategy adversarial`): instead of
// maximum likelihood the generator is trained by REINFORCE to maximise the discriminator's loss on
// the tokens it sampled at the masked positions. The discriminator trains as in the joint step.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace electra::train {

// The reward of each masked position: the discriminator's cross-entropy there on the corrupted
// input (label: replaced or not), high where it was fooled. disc_logits [B, L], replaced [B, L]
// (1 where the token differs from the original), positions [B, P] -> [B, P], without gradient.
at::Tensor adversarial_rewards(const at::Tensor& disc_logits, const at::Tensor& replaced,
                               const at::Tensor& positions);

struct ReinforceTerms {
  at::Tensor loss;         // scalar with the graph into the generator's logits
  at::Tensor mean_reward;  // scalar, no graph: the weighted mean of the rewards
  at::Tensor entropy;      // scalar, no graph: the weighted mean entropy of the distributions
};

// REINFORCE with a baseline b and an entropy bonus:
//   loss = -sum_w [(r - b) log p(sampled) + entropy_weight H(p)] / n
// with p = softmax(logits) the distribution the tokens were sampled from (logits already divided
// by the temperature), w the masked positions' weights [B, P], b a scalar tensor and
// n = denominator (a scalar tensor) when defined, else sum(w). Its gradient with respect to the
// logits of a position is
//   -w (r - b) (onehot(sampled) - p) / n + w entropy_weight p (log p + H) / n.
// logits [B, P, V], sampled [B, P], rewards [B, P] (no gradient flows into them).
ReinforceTerms reinforce_loss(const at::Tensor& logits, const at::Tensor& sampled,
                              const at::Tensor& weights, const at::Tensor& rewards,
                              const at::Tensor& baseline, double entropy_weight,
                              const at::Tensor& denominator = {});

// The moving-average baseline of the mean reward, kept on the device: the first update sets it to
// the mean, later ones b <- decay b + (1 - decay) mean; an update can be masked on the device (a
// skipped step). The trainer feeds it the mean over all ranks once a step, so every rank holds
// the same value and a checkpoint stores it exactly.
class RewardBaseline {
 public:
  explicit RewardBaseline(double decay = 0.99, at::Device device = at::kCPU);
  const at::Tensor& tensor() const { return value_; }  // scalar double on the device
  double value() const;                                // 0 before the first update (a device read)
  int64_t updates() const;                             // (a device read)
  // `apply`: a bool scalar; where false nothing changes. Undefined: always.
  void update(const at::Tensor& mean_reward, const at::Tensor& apply = {});
  void update(double mean_reward);
  void restore(double value, int64_t updates);

 private:
  double decay_;
  at::Tensor value_, updates_;  // scalars (double) on the device
};

}  // namespace electra::train
