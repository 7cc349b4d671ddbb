// Where each parameter's values and gradient accumulator are (tests of saving a model: a save that
// leaves the module in place changes neither). The accumulators are held, as the gradient reducer
// holds them with its hooks on them (autograd keeps only a weak reference).
#pragma once

#include <torch/csrc/autograd/variable.h>
#include <torch/nn/module.h>

#include <memory>
#include <vector>

namespace electra::train {

struct ParameterPlacement {
  std::vector<const void*> storage, accumulators;
  std::vector<std::shared_ptr<void>> held;
  explicit ParameterPlacement(torch::nn::Module& module) {
    for (auto& p : module.parameters()) {
      storage.push_back(p.data_ptr());
      auto accumulator = torch::autograd::impl::grad_accumulator(p);
      accumulators.push_back(accumulator.get());
      held.push_back(std::make_shared<decltype(accumulator)>(std::move(accumulator)));
    }
  }
};

}  // namespace electra::train
