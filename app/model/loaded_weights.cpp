#include "app/model/loaded_weights.h"

#include <stdexcept>

namespace electra::model {

namespace {

std::string shape_text(const std::vector<int64_t>& sizes) {
  std::string text = "[";
  for (size_t i = 0; i < sizes.size(); ++i) text += (i ? ", " : "") + std::to_string(sizes[i]);
  return text + "]";
}

}  // namespace

void require_finite_weights(const torch::nn::Module& module, const std::string& source) {
  for (const auto& parameter : module.named_parameters()) {
    if (!parameter.value().isfinite().all().item<bool>()) {
      throw std::runtime_error(source + ": the weights hold non-finite values (NaN or inf) in " +
                               parameter.key() +
                               ": the run that wrote them diverged; use an earlier checkpoint");
    }
  }
}

ParameterShapes parameter_shapes(const torch::nn::Module& module) {
  ParameterShapes shapes;
  for (const auto& parameter : module.named_parameters()) {
    shapes.emplace_back(parameter.key(), parameter.value().sizes().vec());
  }
  return shapes;
}

std::string first_shape_change(const ParameterShapes& made, const torch::nn::Module& module) {
  const auto loaded = module.named_parameters();
  for (const auto& [name, sizes] : made) {
    const std::vector<int64_t> stored = loaded[name].sizes().vec();
    if (stored != sizes) {
      return name + " is stored as " + shape_text(stored) + ", the model makes " +
             shape_text(sizes);
    }
  }
  return "";
}

}  // namespace electra::model
