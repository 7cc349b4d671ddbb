#include "app/train/flat_parameters.h"

#include <ATen/Functions.h>

#include <map>
#include <mutex>
#include <tuple>
#include <unordered_set>

namespace electra::train {

namespace {

struct Registered {
  std::weak_ptr<FlatParameters> flat;
  const void* first_parameter = nullptr;  // the module behind the address is still the same one
};

const void* first_parameter_of(torch::nn::Module& module) {
  const auto parameters = module.parameters();
  return parameters.empty() ? nullptr : parameters.front().unsafeGetTensorImpl();
}

}  // namespace

std::shared_ptr<FlatParameters> FlatParameters::of(torch::nn::Module& module) {
  static std::mutex mutex;
  static std::map<const torch::nn::Module*, Registered> registry;
  std::lock_guard<std::mutex> lock(mutex);
  Registered& entry = registry[&module];
  const void* first = first_parameter_of(module);
  if (auto existing = entry.flat.lock(); existing && entry.first_parameter == first) {
    return existing;
  }
  auto flat = std::make_shared<FlatParameters>(module);
  entry = {flat, first};
  return flat;
}

FlatParameters::FlatParameters(torch::nn::Module& module) {
  std::vector<std::pair<std::string, at::Tensor>> parameters;
  std::unordered_set<const void*> seen;
  for (const auto& item : module.named_parameters()) {
    if (seen.insert(item.value().unsafeGetTensorImpl()).second) {
      parameters.emplace_back(item.key(), item.value());
    }
  }
  std::reverse(parameters.begin(), parameters.end());
  std::map<std::tuple<std::string, int>, size_t> group_of;  // (device, dtype) -> group
  for (const auto& [name, p] : parameters) {
    const auto key = std::make_tuple(p.device().str(), int(p.scalar_type()));
    if (!group_of.count(key)) group_of[key] = groups_.size(), groups_.emplace_back();
    Group& group = groups_[group_of[key]];
    const int64_t offset =
        group.segments.empty() ? 0 : group.segments.back().offset + group.segments.back().numel;
    group.segments.push_back({name, p, offset, p.numel()});
  }
  torch::NoGradGuard no_grad;
  for (Group& group : groups_) {
    const Segment& last = group.segments.back();
    const at::Tensor& like = last.parameter;
    group.values = at::empty({last.offset + last.numel}, like.options());
    group.gradients = at::zeros({last.offset + last.numel}, like.options());
    for (Segment& segment : group.segments) {
      const at::Tensor value = group.view(group.values, segment);
      value.copy_(segment.parameter.detach());
      segment.parameter.set_data(value);
      const at::Tensor grad = group.view(group.gradients, segment);
      if (segment.parameter.grad().defined()) grad.copy_(segment.parameter.grad());
      segment.parameter.mutable_grad() = grad;
    }
  }
}

size_t FlatParameters::parameter_count() const {
  size_t count = 0;
  for (const Group& group : groups_) count += group.segments.size();
  return count;
}

void FlatParameters::bind() {
  for (Group& group : groups_) {
    auto* values = static_cast<char*>(group.values.data_ptr());
    auto* gradients = static_cast<char*>(group.gradients.data_ptr());
    const int64_t element = int64_t(group.values.element_size());
    for (Segment& segment : group.segments) {
      at::Tensor& p = segment.parameter;
      if (p.data_ptr() != values + segment.offset * element ||
          p.device() != group.values.device()) {
        torch::NoGradGuard no_grad;
        const at::Tensor value = group.view(group.values, segment);
        value.copy_(p.detach());
        p.set_data(value);
      }
      const at::Tensor& grad = p.grad();
      if (!grad.defined() || grad.data_ptr() != gradients + segment.offset * element) {
        torch::NoGradGuard no_grad;
        const at::Tensor view = group.view(group.gradients, segment);
        if (grad.defined()) view.copy_(grad);
        p.mutable_grad() = view;
      }
    }
  }
}

void FlatParameters::zero_gradients() {
  for (Group& group : groups_) group.gradients.zero_();
}

}  // namespace electra::train
