// Checks on weights a command loads. Weights that are not finite (NaN or inf: a diverged run's)
// are refused wherever a model is loaded, so that no command scores, exports, fine-tunes or
// resumes from them. LibTorch's archive reader takes a stored tensor of any shape, so a loader
// records the shapes its model makes and compares them after the load.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace electra::model {

// Throws naming SOURCE and the first parameter that holds NaN or inf.
void require_finite_weights(const torch::nn::Module& module, const std::string& source);

// Each parameter's name and shape.
using ParameterShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;
ParameterShapes parameter_shapes(const torch::nn::Module& module);
// "NAME is stored as [a, b], the model makes [c, d]" for the first parameter of MODULE whose
// shape is not the one recorded in MADE, or "" when all match.
std::string first_shape_change(const ParameterShapes& made, const torch::nn::Module& module);

}  // namespace electra::model
