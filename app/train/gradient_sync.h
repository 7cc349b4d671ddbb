// Data-parallel gradient averaging: all gradients are packed into one flat buffer on their device,
// summed across ranks in one all-reduce — MPI for CPU tensors, NCCL for CUDA tensors (CUDA
// builds) — and divided by the number of ranks. (Bucketing and overlap with backward come with
// the distributed runtime.)
#pragma once

#include <torch/nn/module.h>

#include "dist/communicator.h"
#include "dist/nccl_all_reduce.h"

namespace electra::train {

class GradientAverager {
 public:
  // Every rank constructs one together (NCCL joins here when `device` is a GPU and the job has
  // more than one rank).
  GradientAverager(dist::Communicator& communicator, const torch::Device& device);
  ~GradientAverager();
  // Every rank calls this with the same module layout; a parameter without a gradient takes
  // part as zeros, so the buffers line up on all ranks.
  void average(torch::nn::Module& module);

 private:
  dist::Communicator& communicator_;
  std::unique_ptr<dist::DeviceAllReduce> nccl_;  // CUDA device and more than one rank
};

// GradientAverager(communicator, CPU).average(module): CPU tensors through MPI.
void average_gradients(torch::nn::Module& module, dist::Communicator& communicator);

}  // namespace electra::train
