// NCCL sums of GPU buffers (CUDA builds only): the BufferAllReduce of dist/buffer_all_reduce.h.
#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "dist/buffer_all_reduce.h"
#include "dist/peer_watch.h"

namespace electra::dist {

namespace {

[[noreturn]] void fail(int rank, const std::string& message) {
  throw std::runtime_error("rank " + std::to_string(rank) + ": " + message);
}

void check_nccl(ncclResult_t result, const char* call, int rank) {
  if (result != ncclSuccess)
    fail(rank, std::string(call) + " failed: " + ncclGetErrorString(result));
}

void check_cuda(cudaError_t error, const char* call, int rank) {
  if (error != cudaSuccess) fail(rank, std::string(call) + " failed: " + cudaGetErrorString(error));
}

#define ELECTRA_NCCL_CHECK(call) check_nccl((call), #call, rank_)
#define ELECTRA_CUDA_CHECK(call) check_cuda((call), #call, rank_)

class NcclAllReduce;

// A sum queued on the side stream; `done_` is recorded after it.
class NcclPendingSum final : public PendingSum {
 public:
  NcclPendingSum(NcclAllReduce& owner, cudaEvent_t done, std::string what)
      : owner_(owner), done_(done), what_(std::move(what)) {}
  ~NcclPendingSum() override;
  void wait() override;

 private:
  NcclAllReduce& owner_;
  cudaEvent_t done_;
  std::string what_;
  bool waited_ = false;
};

class NcclAllReduce final : public BufferAllReduce {
 public:
  NcclAllReduce(Communicator& communicator, int device)
      : rank_(communicator.rank()), watch_(*communicator.peer_watch()) {
    ELECTRA_CUDA_CHECK(cudaSetDevice(device));
    ncclUniqueId id{};
    if (communicator.is_root()) ELECTRA_NCCL_CHECK(ncclGetUniqueId(&id));
    const std::string shared = communicator.broadcast_from_root(
        std::string(reinterpret_cast<const char*>(&id), sizeof id));
    if (shared.size() != sizeof id) fail(rank_, "NCCL unique id of the wrong size");
    std::copy(shared.begin(), shared.end(), reinterpret_cast<char*>(&id));
    ELECTRA_NCCL_CHECK(ncclCommInitRank(&comm_, communicator.size(), id, communicator.rank()));
    ELECTRA_CUDA_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
  }
  ~NcclAllReduce() override {
    if (side_) cudaStreamDestroy(side_);
    if (comm_) ncclCommDestroy(comm_);
  }

  std::unique_ptr<PendingSum> start_sum(void* data, size_t count, ElementType type, void* stream,
                                        const std::string& what) override {
    cudaEvent_t ready = nullptr, done = nullptr;
    ELECTRA_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    ELECTRA_CUDA_CHECK(cudaEventRecord(ready, static_cast<cudaStream_t>(stream)));
    ELECTRA_CUDA_CHECK(cudaStreamWaitEvent(side_, ready, 0));
    ELECTRA_CUDA_CHECK(cudaEventDestroy(ready));  // released once recorded work completes
    ELECTRA_NCCL_CHECK(ncclAllReduce(data, data, count,
                                     type == ElementType::kBfloat16 ? ncclBfloat16 : ncclFloat,
                                     ncclSum, comm_, side_));
    ELECTRA_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    ELECTRA_CUDA_CHECK(cudaEventRecord(done, side_));
    return std::make_unique<NcclPendingSum>(*this, done, what);
  }

  // Blocks until `done` completes, polling NCCL's asynchronous error and the peer watch: an
  // error, the peer deadline, or another rank giving up ends this rank through
  // PeerWatch::give_up (the process ends: the communicator is not aborted, which can itself hang
  // on a dead peer).
  void wait_for(cudaEvent_t done, const std::string& what) {
    const std::string operation = "NCCL all-reduce of " + what;
    watch_.wait_until(
        [&] {
          const cudaError_t state = cudaEventQuery(done);
          if (state == cudaSuccess) return true;
          if (state != cudaErrorNotReady)
            check_cuda(state, ("cudaEventQuery after the " + operation).c_str(), rank_);
          ncclResult_t async = ncclSuccess;
          ELECTRA_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async));
          if (async != ncclSuccess && async != ncclInProgress) {
            watch_.give_up(operation, std::string("failed: ") + ncclGetErrorString(async));
          }
          return false;
        },
        operation);
  }

 private:
  int rank_;
  PeerWatch& watch_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t side_ = nullptr;  // the sums run here, beside the compute stream
};

NcclPendingSum::~NcclPendingSum() {
  if (!waited_) {
    try {
      owner_.wait_for(done_, what_);
    } catch (...) {  // unwinding already: the first error is the one reported
    }
  }
  cudaEventDestroy(done_);
}

void NcclPendingSum::wait() {
  waited_ = true;
  owner_.wait_for(done_, what_);
}

}  // namespace

std::unique_ptr<BufferAllReduce> make_nccl_all_reduce(Communicator& communicator, int device) {
  return std::make_unique<NcclAllReduce>(communicator, device);
}

}  // namespace electra::dist
