#include "app/train/replica_check.h"

#include <ATen/Functions.h>

#include <cstdio>
#include <stdexcept>

namespace electra::train {

void check_replicas_identical(const torch::nn::Module& module, dist::Communicator& communicator,
                              long long step) {
  if (communicator.size() == 1) return;
  torch::NoGradGuard no_grad;
  // Sum and sum of squares in double, position-weighted so that swapped values count: equal
  // parameters give bit-identical sums (the same operations on the same values).
  std::vector<at::Tensor> parts;
  for (const auto& p : module.parameters()) {
    const at::Tensor x = p.detach().reshape({-1}).to(at::kDouble);
    const at::Tensor weight = at::arange(1, x.numel() + 1, x.options()).remainder(977.0) + 1;
    parts.push_back(at::stack({x.sum(), (x * x).sum(), (x * weight).sum()}));
  }
  const at::Tensor sums = at::stack(parts).sum(0).to(at::kCPU);  // [3], one device read
  char text[96];
  std::snprintf(text, sizeof text, "%.17g %.17g %.17g", sums[0].item<double>(),
                sums[1].item<double>(), sums[2].item<double>());
  const std::vector<std::string> all = communicator.gather_to_root(text);
  std::string differing;
  for (size_t r = 1; r < all.size(); ++r) {
    if (all[r] != all[0]) {
      differing += (differing.empty() ? "" : ", ") + std::to_string(r) + " (" + all[r] + ")";
    }
  }
  if (!differing.empty()) {
    std::fprintf(stderr,
                 "electra pretrain: step %lld: parameters differ across ranks: rank 0 (%s) vs "
                 "rank(s) %s\n",
                 step, all[0].c_str(), differing.c_str());
  }
  if (!communicator.all_ok(differing.empty())) {
    throw std::runtime_error("step " + std::to_string(step) +
                             ": the ranks' parameters are no longer identical (see above); "
                             "resume from the last checkpoint and report this");
  }
}

}  // namespace electra::train
