#include "app/train/optimizer.h"

#include <ATen/Functions.h>
#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace electra::train {

bool excluded_from_weight_decay(const std::string& name) {
  const auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with("bias") || name.find("norm") != std::string::npos;
}

AdamW::AdamW(torch::nn::Module& module, AdamWOptions options) : options_(options) {
  for (const auto& item : module.named_parameters()) {
    torch::Tensor p = item.value();
    slots_.push_back({item.key(), p, torch::zeros_like(p), torch::zeros_like(p),
                      !excluded_from_weight_decay(item.key())});
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double correction1 = options_.bias_correction ? 1 - std::pow(b1, double(steps_)) : 1;
  const double correction2 = options_.bias_correction ? 1 - std::pow(b2, double(steps_)) : 1;
  for (auto& slot : slots_) {
    const torch::Tensor& grad = slot.parameter.grad();
    // A frozen parameter (requires_grad false) keeps its value: no momentum, no weight decay.
    if (!grad.defined() || !slot.parameter.requires_grad()) continue;
    slot.m.mul_(b1).add_(grad, 1 - b1);
    slot.v.mul_(b2).addcmul_(grad, grad, 1 - b2);
    torch::Tensor update = (slot.m / correction1) / ((slot.v / correction2).sqrt() + options_.eps);
    if (slot.decay && options_.weight_decay > 0) update.add_(slot.parameter, options_.weight_decay);
    if (options_.lamb) {
      // Trust ratio ||w|| / ||update||, 1 where either norm is zero (without a host sync).
      const torch::Tensor w_norm = slot.parameter.norm(), u_norm = update.norm();
      const torch::Tensor ratio =
          at::where(w_norm.gt(0) & u_norm.gt(0), w_norm / u_norm, at::ones_like(w_norm));
      update.mul_(ratio);
    }
    slot.parameter.add_(update, -lr * slot.lr_scale);
  }
}

void AdamW::set_lr_scales(const std::function<double(const std::string&)>& scale) {
  for (auto& slot : slots_) slot.lr_scale = scale(slot.name);
}

double layerwise_lr_factor(int depth, int layers, double decay) {
  return std::pow(decay, double(layers + 1 - depth));
}

double scheduled_learning_rate(double lr, int64_t step, int64_t warmup_steps, int64_t total_steps) {
  const double warmup = warmup_steps > 0 ? std::min(1.0, double(step) / double(warmup_steps)) : 1.0;
  const double decay =
      total_steps > 0 ? std::max(0.0, 1.0 - double(step) / double(total_steps)) : 1.0;
  return lr * warmup * decay;
}

torch::Tensor clip_gradient_norm(torch::nn::Module& module, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms, grads;
  for (const auto& p : module.parameters()) {
    if (!p.grad().defined() || !p.requires_grad()) continue;
    grads.push_back(p.grad());
    norms.push_back(p.grad().to(torch::kFloat).norm());
  }
  if (grads.empty()) return torch::zeros({});
  const torch::Tensor total = at::stack(norms).norm();
  const torch::Tensor scale = (max_norm / (total + 1e-6)).clamp_max(1.0);  // as torch's clip
  for (auto& g : grads) g.mul_(scale.to(g.scalar_type()));
  return total;
}

void AdamW::save(torch::serialize::OutputArchive& archive) const {
  archive.write("steps", torch::tensor(steps_, torch::kLong));
  for (const auto& slot : slots_) {
    archive.write("m." + slot.name, slot.m);
    archive.write("v." + slot.name, slot.v);
  }
}

void AdamW::load(torch::serialize::InputArchive& archive) {
  torch::NoGradGuard no_grad;
  torch::Tensor steps;
  archive.read("steps", steps);
  for (auto& slot : slots_) {
    for (auto [key, moment] : {std::pair{"m." + slot.name, &slot.m}, {"v." + slot.name, &slot.v}}) {
      torch::Tensor saved;
      if (!archive.try_read(key, saved) || !saved.sizes().equals(moment->sizes())) {
        throw std::runtime_error("optimizer state for '" + slot.name +
                                 "' is missing or has another shape");
      }
      moment->copy_(saved);
    }
  }
  steps_ = steps.item<int64_t>();
}

}  // namespace electra::train
