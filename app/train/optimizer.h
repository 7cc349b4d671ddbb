// ELECTRA's optimiser (DESIGN.md section 3): AdamW as the reference AdamWeightDecayOptimizer —
// beta (0.9, 0.999), eps 1e-6, no bias correction by default, decoupled weight decay 0.01 except
// for LayerNorm and bias parameters — and the learning-rate schedule: linear warmup times linear
// decay (they multiply). With `lamb`, LAMB for large batches (NVIDIA's recipe): each
// parameter's update is scaled by its trust ratio ||w|| / ||update||.
#pragma once

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <functional>
#include <string>
#include <vector>

namespace electra::train {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-6, weight_decay = 0.01;
  bool bias_correction = false;  // the reference applies none
  bool lamb = false;
};

// True for parameters that take no weight decay: LayerNorm weights and biases, and every bias.
bool excluded_from_weight_decay(const std::string& parameter_name);

class AdamW {
 public:
  // Every parameter of `module` once (a shared module's parameters are listed once).
  AdamW(torch::nn::Module& module, AdamWOptions options);
  // One update with learning rate `lr` (times each parameter's scale); parameters without a
  // gradient or frozen (requires_grad false) are skipped.
  void step(double lr);
  // Each parameter's learning rate becomes lr * scale(name) (layer-wise decay in fine-tuning).
  void set_lr_scales(const std::function<double(const std::string&)>& scale);
  int64_t steps_taken() const { return steps_; }
  // The moments and the step count, by parameter name (for checkpoints); load() throws naming
  // the parameter when the archive was written for another model.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  struct Slot {
    std::string name;
    torch::Tensor parameter, m, v;  // m, v: first and second moments
    bool decay;
    double lr_scale = 1;
  };
  const std::vector<Slot>& slots() const { return slots_; }

 private:
  AdamWOptions options_;
  std::vector<Slot> slots_;
  int64_t steps_ = 0;
};

// Layer-wise learning-rate decay for fine-tuning (DESIGN.md section 3): a parameter at `depth`
// (0 the embeddings, i + 1 encoder layer i, layers + 1 the task head) gets
// decay^(layers + 1 - depth): the head 1, the top layer `decay`, the embeddings decay^(layers+1).
// (The reference code gives the head depth layers + 2, so its top layer gets decay^2: an
// off-by-one this does not copy.)
double layerwise_lr_factor(int depth, int layers, double decay);

// lr * min(1, step / warmup) * max(0, 1 - step / total)
double scheduled_learning_rate(double lr, int64_t step, int64_t warmup_steps, int64_t total_steps);

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm before,
// as a scalar tensor on the parameters' device (no host synchronisation).
torch::Tensor clip_gradient_norm(torch::nn::Module& module, double max_norm);

}  // namespace electra::train
