#include "app/train/gradient_sync.h"

#include <ATen/Functions.h>

namespace electra::train {

void average_gradients(torch::nn::Module& module, dist::Communicator& communicator) {
  if (communicator.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parameters = module.parameters();
  std::vector<torch::Tensor> flat;
  for (auto& p : parameters) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    flat.push_back(p.grad().reshape({-1}).to(torch::kFloat));
  }
  torch::Tensor buffer = torch::cat(flat).to(torch::kCPU).contiguous();  // [total elements]
  communicator.all_reduce_sum(buffer.data_ptr<float>(), size_t(buffer.numel()));
  buffer.div_(double(communicator.size()));
  int64_t offset = 0;
  for (auto& p : parameters) {
    const int64_t n = p.numel();
    p.mutable_grad().copy_(buffer.narrow(0, offset, n).view_as(p));
    offset += n;
  }
}

}  // namespace electra::train
