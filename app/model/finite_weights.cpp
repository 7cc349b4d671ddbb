#include "app/model/finite_weights.h"

#include <stdexcept>

namespace electra::model {

void require_finite_weights(const torch::nn::Module& module, const std::string& source) {
  for (const auto& parameter : module.named_parameters()) {
    if (!parameter.value().isfinite().all().item<bool>()) {
      throw std::runtime_error(source + ": the weights hold non-finite values (NaN or inf) in " +
                               parameter.key() +
                               ": the run that wrote them diverged; use an earlier checkpoint");
    }
  }
}

}  // namespace electra::model
