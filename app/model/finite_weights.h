// Weights that are not finite (NaN or inf: a diverged run's) are refused wherever a model is
// loaded, so that no command scores, exports, fine-tunes or resumes from them.
#pragma once

#include <torch/nn/module.h>

#include <string>

namespace electra::model {

// Throws naming SOURCE and the first parameter that holds NaN or inf.
void require_finite_weights(const torch::nn::Module& module, const std::string& source);

}  // namespace electra::model
