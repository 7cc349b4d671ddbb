// ELECTRA's optimiser (DESIGN.md section 3): AdamW as the reference AdamWeightDecayOptimizer —
// beta (0.9, 0.999), eps 1e-6, no bias correction by default, decoupled weight decay 0.01 except
// for LayerNorm and bias parameters — and the learning-rate schedule: linear warmup times linear
// decay (they multiply). With `lamb`, LAMB for large batches (NVIDIA's recipe): each
// parameter's update is scaled by its trust ratio ||w|| / ||update||.
//
// It updates the module's flat storage (app/train/flat_parameters.h) with a number of operator
// calls that does not grow with the number of parameters: weight decay and learning-rate scales
// are per-element factors, LAMB's norms are segment sums. A step can be masked on the device
// (a non-finite step skipped without the host looking), and the learning rate can be a device
// scalar (what a captured CUDA graph needs).
#pragma once

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/train/flat_parameters.h"

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
  // Every parameter of `module` once, through its flat storage.
  AdamW(torch::nn::Module& module, AdamWOptions options);
  ~AdamW();
  // One update with learning rate `lr` (times each parameter's scale). Frozen parameters
  // (requires_grad false) keep their value and moments. `apply`: a bool scalar on the device;
  // where false nothing changes (parameters, moments, step count). Undefined: always applied.
  void step(double lr, const at::Tensor& apply = {});
  // The same with the learning rate as a float scalar on the parameters' device.
  void step(const at::Tensor& lr, const at::Tensor& apply);
  // Each parameter's learning rate becomes lr * scale(name) (layer-wise decay in fine-tuning).
  void set_lr_scales(const std::function<double(const std::string&)>& scale);
  // Updates applied so far (a read from the device).
  int64_t steps_taken() const;
  // Where the parameters and moments live (a checkpoint's state is loaded onto it).
  at::Device device() const { return steps_.device(); }
  // The moments and the step count, by parameter name (for checkpoints; the format of the
  // per-parameter optimiser it replaced); load() throws naming the parameter when the archive was
  // written for another model, and reads archives written before the attention's query, key and
  // value projections were fused.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  struct Slot {
    std::string name;
    torch::Tensor parameter, m, v;  // m, v: first and second moments (views into flat buffers)
    bool decay;
    double lr_scale = 1;  // set_lr_scales' factor (applied per element on the device)
  };
  const std::vector<Slot>& slots() const { return slots_; }
  FlatParameters& flat() { return *flat_; }

 private:
  struct GroupState;
  struct FusedRun;
  struct Rate {
    double value;
    at::Tensor tensor;  // defined: the rate on the device, instead of value
  };
  void update(const Rate& rate, const at::Tensor& apply);
  void fused_update(const Rate& rate, const at::Tensor& apply);  // AdamW: LibTorch's fused kernel
  void build_fused_runs();
  void update_trainable_masks();
  at::Tensor trust_ratios(const GroupState& state, const at::Tensor& p,
                          const at::Tensor& update) const;

  AdamWOptions options_;
  std::shared_ptr<FlatParameters> flat_;
  std::vector<GroupState> groups_;  // [flat group]
  std::vector<Slot> slots_;
  std::vector<bool> trainable_;  // [slot] requires_grad when the masks were last built
  at::Tensor steps_;             // scalar double on the device: updates applied
  std::vector<FusedRun> fused_;  // AdamW's tensor lists for the fused kernel (empty for LAMB)
  at::Tensor fused_step_;        // float scalar the kernel reads as the step count
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
// as a scalar tensor on the parameters' device (no host synchronisation). Frozen parameters have
// zero gradients in flat storage, so they add nothing.
torch::Tensor clip_gradient_norm(torch::nn::Module& module, double max_norm);
torch::Tensor clip_gradient_norm(FlatParameters& flat, double max_norm);

}  // namespace electra::train
