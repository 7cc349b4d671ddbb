// NCCL sums of GPU buffers (CUDA builds only): the BufferAllReduce of dist/buffer_all_reduce.h.
#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "dist/background_waits.h"
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

// A CUDA event shared by the sum's consumer and the watch's thread; destroyed by the last.
using Event = std::shared_ptr<CUevent_st>;

// A sum queued on the side stream; `done_` is recorded after it. wait() makes the consumer
// stream wait for it on the device: the host goes on queueing the step.
class NcclPendingSum final : public PendingSum {
 public:
  NcclPendingSum(Event done, cudaStream_t consumer, int rank)
      : done_(std::move(done)), consumer_(consumer), rank_(rank) {}
  ~NcclPendingSum() override {
    if (!waited_) cudaStreamWaitEvent(consumer_, done_.get(), 0);  // what follows sees the sum
  }
  void wait() override {
    waited_ = true;
    ELECTRA_CUDA_CHECK(cudaStreamWaitEvent(consumer_, done_.get(), 0));
  }

 private:
  Event done_;
  cudaStream_t consumer_;
  int rank_;
  bool waited_ = false;
};

class NcclAllReduce final : public BufferAllReduce {
 public:
  NcclAllReduce(Communicator& communicator, int device)
      : rank_(communicator.rank()), device_(device), watch_(*communicator.peer_watch()) {
    ELECTRA_CUDA_CHECK(cudaSetDevice(device));
    ncclUniqueId id{};
    if (communicator.is_root()) ELECTRA_NCCL_CHECK(ncclGetUniqueId(&id));
    const std::string shared = communicator.broadcast_from_root(
        std::string(reinterpret_cast<const char*>(&id), sizeof id));
    if (shared.size() != sizeof id) fail(rank_, "NCCL unique id of the wrong size");
    std::copy(shared.begin(), shared.end(), reinterpret_cast<char*>(&id));
    // Set-up blocks until every rank has joined: a rank that never comes would hold this one
    // forever, so the peer watch's thread times it (and ends the process under the peer
    // deadline, naming the set-up, if it does not return).
    auto joined = std::make_shared<std::atomic<bool>>(false);
    watch_.background().add(
        [joined] {
          BackgroundWaits::Poll poll;
          poll.done = joined->load();
          return poll;
        },
        "the NCCL communicator's set-up (ncclCommInitRank)");
    const ncclResult_t initialised =
        ncclCommInitRank(&comm_, communicator.size(), id, communicator.rank());
    joined->store(true);
    if (initialised != ncclSuccess) watch_.background().disarm();  // NCCL's error, not a timeout
    ELECTRA_NCCL_CHECK(initialised);
    watch_.give_up_if_marked();  // it returned, but after the deadline had passed
    ELECTRA_CUDA_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
  }
  ~NcclAllReduce() override {
    if (side_) {
      // The sums still in flight end first (under the deadline, on this thread: it may talk
      // MPI); then nothing polls the communicator any more.
      watch_.wait_until([&] { return cudaStreamQuery(side_) != cudaErrorNotReady; },
                        "the NCCL sums in flight at the end");
      watch_.give_up_if_marked();  // a sum that failed before: not to be dropped silently
      watch_.background().forget();
      cudaStreamDestroy(side_);
    }
    if (comm_) ncclCommDestroy(comm_);
  }

  std::unique_ptr<PendingSum> start_sum(void* data, size_t count, ElementType type, void* stream,
                                        const std::string& what) override {
    return start(data, count, type, ncclSum, static_cast<cudaStream_t>(stream), what);
  }
  bool averages() const override { return true; }
  std::unique_ptr<PendingSum> start_average(void* data, size_t count, ElementType type,
                                            void* stream, const std::string& what) override {
    return start(data, count, type, ncclAvg, static_cast<cudaStream_t>(stream), what);
  }

 private:
  Event make_event() const {
    cudaEvent_t event = nullptr;
    ELECTRA_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    return Event(event, [](cudaEvent_t e) { cudaEventDestroy(e); });
  }

  // Queues the reduction on the side stream after what `producer` queued so far, and hands its
  // completion to the watch's thread: it polls the event and NCCL's asynchronous error under the
  // peer deadline (an error or the deadline ends this rank: dist/background_waits.h; the
  // communicator is not aborted, which can itself hang on a dead peer).
  std::unique_ptr<PendingSum> start(void* data, size_t count, ElementType type, ncclRedOp_t op,
                                    cudaStream_t producer, const std::string& what) {
    const Event ready = make_event();
    ELECTRA_CUDA_CHECK(cudaEventRecord(ready.get(), producer));
    ELECTRA_CUDA_CHECK(cudaStreamWaitEvent(side_, ready.get(), 0));
    ELECTRA_NCCL_CHECK(ncclAllReduce(data, data, count,
                                     type == ElementType::kBfloat16 ? ncclBfloat16 : ncclFloat, op,
                                     comm_, side_));
    Event done = make_event();
    ELECTRA_CUDA_CHECK(cudaEventRecord(done.get(), side_));
    watch_.background().add(
        [done, comm = comm_, device = device_] {
          BackgroundWaits::Poll poll;
          cudaSetDevice(device);  // the watch's thread: the event's device
          const cudaError_t state = cudaEventQuery(done.get());
          if (state == cudaSuccess) {
            poll.done = true;
          } else if (state != cudaErrorNotReady) {
            poll.failure = std::string("failed: ") + cudaGetErrorString(state);
          } else {
            ncclResult_t async = ncclSuccess;
            const ncclResult_t queried = ncclCommGetAsyncError(comm, &async);
            if (queried != ncclSuccess) async = queried;
            if (async != ncclSuccess && async != ncclInProgress) {
              poll.failure = std::string("failed: ") + ncclGetErrorString(async);
            }
          }
          return poll;
        },
        "NCCL all-reduce of " + what);
    return std::make_unique<NcclPendingSum>(std::move(done), producer, rank_);
  }

  int rank_;
  int device_;
  PeerWatch& watch_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t side_ = nullptr;  // the sums run here, beside the compute stream
};

}  // namespace

std::unique_ptr<BufferAllReduce> make_nccl_all_reduce(Communicator& communicator, int device) {
  return std::make_unique<NcclAllReduce>(communicator, device);
}

}  // namespace electra::dist
