// ELECTRA's optimiser (DESIGN.md section 3): AdamW as the reference AdamWeightDecayOptimizer —
// beta (0.9, 0.999), eps 1e-6, no bias correction by default, decoupled weight decay 0.01 except
// for LayerNorm and bias parameters — and the learning-rate schedule: linear warmup times linear
// decay (they multiply).
#pragma once

#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace electra::train {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-6, weight_decay = 0.01;
  bool bias_correction = false;  // the reference applies none
};

// True for parameters that take no weight decay: LayerNorm weights and biases, and every bias.
bool excluded_from_weight_decay(const std::string& parameter_name);

class AdamW {
 public:
  // Every parameter of `module` once (a shared module's parameters are listed once).
  AdamW(torch::nn::Module& module, AdamWOptions options);
  // One update with learning rate `lr`; parameters without a gradient are skipped.
  void step(double lr);
  int64_t steps_taken() const { return steps_; }

  struct Slot {
    std::string name;
    torch::Tensor parameter, m, v;  // m, v: first and second moments
    bool decay;
  };
  const std::vector<Slot>& slots() const { return slots_; }

 private:
  AdamWOptions options_;
  std::vector<Slot> slots_;
  int64_t steps_ = 0;
};

// lr * min(1, step / warmup) * max(0, 1 - step / total)
double scheduled_learning_rate(double lr, int64_t step, int64_t warmup_steps, int64_t total_steps);

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm before.
double clip_gradient_norm(torch::nn::Module& module, double max_norm);

}  // namespace electra::train
