// The per-parameter AdamW / LAMB and clipping that the flat optimiser replaced
// (app/train/optimizer.h): about 13 operator calls per parameter, kept as the tests' reference.
// It works on the parameters as they are (views of flat storage or not) and never creates flat
// storage itself.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "app/train/optimizer.h"

namespace electra::train::testing {

class ReferenceAdamW {
 public:
  ReferenceAdamW(torch::nn::Module& module, AdamWOptions options) : options_(options) {
    for (const auto& item : module.named_parameters()) {
      bool seen = false;  // a shared parameter once
      for (const auto& slot : slots_) seen |= slot.parameter.is_same(item.value());
      if (seen) continue;
      torch::Tensor p = item.value();
      slots_.push_back({item.key(), p, torch::zeros_like(p), torch::zeros_like(p),
                        !excluded_from_weight_decay(item.key())});
    }
  }
  void set_lr_scales(const std::function<double(const std::string&)>& scale) {
    for (auto& slot : slots_) slot.lr_scale = scale(slot.name);
  }
  void step(double lr) {
    torch::NoGradGuard no_grad;
    ++steps_;
    const double b1 = options_.beta1, b2 = options_.beta2;
    const double correction1 = options_.bias_correction ? 1 - std::pow(b1, double(steps_)) : 1;
    const double correction2 = options_.bias_correction ? 1 - std::pow(b2, double(steps_)) : 1;
    for (auto& slot : slots_) {
      const torch::Tensor& grad = slot.parameter.grad();
      if (!grad.defined() || !slot.parameter.requires_grad()) continue;
      slot.m.mul_(b1).add_(grad, 1 - b1);
      slot.v.mul_(b2).addcmul_(grad, grad, 1 - b2);
      torch::Tensor update =
          (slot.m / correction1) / ((slot.v / correction2).sqrt() + options_.eps);
      if (slot.decay && options_.weight_decay > 0)
        update.add_(slot.parameter, options_.weight_decay);
      if (options_.lamb) {
        const torch::Tensor w_norm = slot.parameter.norm(), u_norm = update.norm();
        update.mul_(at::where(w_norm.gt(0) & u_norm.gt(0), w_norm / u_norm, at::ones_like(w_norm)));
      }
      slot.parameter.add_(update, -lr * slot.lr_scale);
    }
  }
  // Per-parameter clipping as before: the global norm of the parameters' norms (each accumulated
  // in double, as the flat clipping does: LibTorch 1.13's fp32 CPU norm of the 3.9M-element word
  // embeddings is off by 2e-5, which would be the reference's error, not the optimiser's).
  static torch::Tensor clip(torch::nn::Module& module, double max_norm) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> norms, grads;
    for (const auto& p : module.parameters()) {
      if (!p.grad().defined() || !p.requires_grad()) continue;
      bool seen = false;
      for (const auto& g : grads) seen |= g.is_same(p.grad());
      if (seen) continue;
      grads.push_back(p.grad());
      norms.push_back(at::linalg_vector_norm(p.grad(), 2, c10::nullopt, false, at::kDouble));
    }
    const torch::Tensor total = at::stack(norms).norm();
    const torch::Tensor scale = (max_norm / (total + 1e-6)).clamp_max(1.0);
    for (auto& g : grads) g.mul_(scale);
    return total;
  }

 private:
  struct Slot {
    std::string name;
    torch::Tensor parameter, m, v;
    bool decay;
    double lr_scale = 1;
  };
  AdamWOptions options_;
  std::vector<Slot> slots_;
  int64_t steps_ = 0;
};

}  // namespace electra::train::testing
