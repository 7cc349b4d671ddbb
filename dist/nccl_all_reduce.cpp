#include "dist/nccl_all_reduce.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace electra::dist {

namespace {

void check_nccl(ncclResult_t result, const char* call, int rank) {
  if (result != ncclSuccess) {
    throw std::runtime_error("rank " + std::to_string(rank) + ": " + call +
                             " failed: " + ncclGetErrorString(result));
  }
}

void check_cuda(cudaError_t error, const char* call, int rank) {
  if (error != cudaSuccess) {
    throw std::runtime_error("rank " + std::to_string(rank) + ": " + call +
                             " failed: " + cudaGetErrorString(error));
  }
}

}  // namespace

#define ELECTRA_NCCL_CHECK(call) check_nccl((call), #call, rank_)
#define ELECTRA_CUDA_CHECK(call) check_cuda((call), #call, rank_)

class NcclAllReduce final : public DeviceAllReduce {
 public:
  NcclAllReduce(Communicator& communicator, int device) : rank_(communicator.rank()) {
    ELECTRA_CUDA_CHECK(cudaSetDevice(device));
    ncclUniqueId id{};
    if (communicator.is_root()) ELECTRA_NCCL_CHECK(ncclGetUniqueId(&id));
    const std::string shared = communicator.broadcast_from_root(
        std::string(reinterpret_cast<const char*>(&id), sizeof id));
    if (shared.size() != sizeof id) throw std::logic_error("NCCL unique id of the wrong size");
    std::copy(shared.begin(), shared.end(), reinterpret_cast<char*>(&id));
    ELECTRA_NCCL_CHECK(ncclCommInitRank(&comm_, communicator.size(), id, communicator.rank()));
  }
  ~NcclAllReduce() override {
    if (comm_) ncclCommDestroy(comm_);
  }

  void sum_in_place(float* device_data, size_t count, void* stream) override {
    const auto cuda_stream = static_cast<cudaStream_t>(stream);
    ELECTRA_NCCL_CHECK(
        ncclAllReduce(device_data, device_data, count, ncclFloat, ncclSum, comm_, cuda_stream));
    ELECTRA_CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
  }

 private:
  int rank_;
  ncclComm_t comm_ = nullptr;
};

std::unique_ptr<DeviceAllReduce> make_nccl_all_reduce(Communicator& communicator, int device) {
  return std::make_unique<NcclAllReduce>(communicator, device);
}

}  // namespace electra::dist
