// Sums GPU buffers across ranks with NCCL (DESIGN.md section 5): rank 0 creates the NCCL unique
// id, the communicator broadcasts it over MPI, every rank joins with ncclCommInitRank on the GPU
// of its local rank. make_nccl_all_reduce exists only in CUDA builds (ELECTRA_WITH_CUDA); CPU
// tensors reduce through the Communicator's MPI all-reduce instead.
#pragma once

#include <cstddef>
#include <memory>

#include "dist/communicator.h"

namespace electra::dist {

class DeviceAllReduce {
 public:
  virtual ~DeviceAllReduce() = default;
  // In place on the device: every rank ends with the element-wise sum. Enqueued on `stream`
  // (a cudaStream_t; nullptr: the default stream, which LibTorch uses unless told otherwise);
  // returns when the sum is done.
  virtual void sum_in_place(float* device_data, size_t count, void* stream = nullptr) = 0;
};

// Every rank calls this together, with `device` its GPU; throws naming the NCCL or CUDA call.
std::unique_ptr<DeviceAllReduce> make_nccl_all_reduce(Communicator& communicator, int device);

}  // namespace electra::dist
