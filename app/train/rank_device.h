// The device of a rank (DESIGN.md section 5): GPU `local_rank` when CUDA is present (wrapping
// when a node has fewer GPUs than ranks), else the CPU. Pretraining and fine-tuning both use it.
#pragma once

#include <torch/cuda.h>
#include <torch/types.h>

#include "dist/communicator.h"

namespace electra::train {

inline torch::Device device_for(const dist::Communicator& communicator) {
  if (torch::cuda::is_available()) {
    return torch::Device(torch::kCUDA, c10::DeviceIndex(communicator.local_rank() %
                                                        int(torch::cuda::device_count())));
  }
  return torch::kCPU;
}

}  // namespace electra::train
