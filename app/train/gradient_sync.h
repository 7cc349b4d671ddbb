// Data-parallel gradient averaging through the communicator (MPI for CPU tensors): all gradients
// are packed into one flat buffer, summed across ranks in one all-reduce and divided by the
// number of ranks. (Bucketing, overlap with backward and NCCL come with the distributed runtime.)
#pragma once

#include <torch/nn/module.h>

#include "dist/communicator.h"

namespace electra::train {

// Every rank must call this with the same module layout; a parameter without a gradient takes
// part as zeros, so the buffers line up on all ranks.
void average_gradients(torch::nn::Module& module, dist::Communicator& communicator);

}  // namespace electra::train
