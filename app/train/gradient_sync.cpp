#include "app/train/gradient_sync.h"

#include <ATen/Functions.h>

#include <stdexcept>

namespace electra::train {

GradientAverager::GradientAverager(dist::Communicator& communicator, const torch::Device& device)
    : communicator_(communicator) {
  if (!device.is_cuda() || communicator.size() == 1) return;
#ifdef ELECTRA_WITH_CUDA
  nccl_ = dist::make_nccl_all_reduce(communicator, int(device.index()));
#else
  throw std::logic_error("CUDA gradients in a build without CUDA and NCCL");
#endif
}

GradientAverager::~GradientAverager() = default;

void GradientAverager::average(torch::nn::Module& module) {
  if (communicator_.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parameters = module.parameters();
  std::vector<torch::Tensor> flat;
  for (auto& p : parameters) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    flat.push_back(p.grad().reshape({-1}).to(torch::kFloat));
  }
  torch::Tensor buffer = torch::cat(flat).contiguous();  // [total elements], on the grads' device
  if (buffer.is_cuda()) {
#ifdef ELECTRA_WITH_CUDA
    nccl_->sum_in_place(buffer.data_ptr<float>(), size_t(buffer.numel()));
#endif
  } else {
    communicator_.all_reduce_sum(buffer.data_ptr<float>(), size_t(buffer.numel()));
  }
  buffer.div_(double(communicator_.size()));
  int64_t offset = 0;
  for (auto& p : parameters) {
    const int64_t n = p.numel();
    p.mutable_grad().copy_(buffer.narrow(0, offset, n).view_as(p));
    offset += n;
  }
}

void average_gradients(torch::nn::Module& module, dist::Communicator& communicator) {
  GradientAverager(communicator, torch::kCPU).average(module);
}

}  // namespace electra::train
