// Sums contiguous buffers across the ranks, started now and waited for later, so that a bucket
// of gradients can be reduced while backward computes the next (DESIGN.md section 5). Three
// implementations behind one interface: MPI for host memory (MPI_Iallreduce), NCCL for GPU
// memory (CUDA builds: on a side stream ordered after the producing stream, which waits for the
// sum on the device; NCCL errors and the peer deadline watched by the peer watch's thread), and
// nothing to do for a single process.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "dist/communicator.h"

namespace electra::dist {

enum class ElementType {
  kFloat32,
  kBfloat16,  // raw bf16 bits; summed in fp32 and rounded to nearest even
};

// A sum in flight. wait() returns when the buffer holds the sum on every rank (for a GPU buffer:
// when work queued after it on the consumer stream will see the sum); when the peers do not
// answer within the peer deadline it ends the process (PeerWatch::give_up names `what`).
class PendingSum {
 public:
  virtual ~PendingSum() = default;
  virtual void wait() = 0;
};

class BufferAllReduce {
 public:
  virtual ~BufferAllReduce() = default;
  // Every rank starts the same sums in the same order. `data` holds `count` elements of `type`
  // and must stay alive until wait(). `stream` (a cudaStream_t, GPU buffers only) is the stream
  // that produced the data: the sum starts after the work queued on it so far, and wait() makes
  // it wait for the sum. `what` names the operation in errors ("gradient bucket 3").
  virtual std::unique_ptr<PendingSum> start_sum(void* data, size_t count, ElementType type,
                                                void* stream, const std::string& what) = 0;
  // The mean over the ranks instead of the sum, where the backend divides as it reduces (NCCL's
  // ncclAvg: no pass of its own); elsewhere averages() is false and the caller divides the sum.
  virtual bool averages() const { return false; }
  virtual std::unique_ptr<PendingSum> start_average(void* data, size_t count, ElementType type,
                                                    void* stream, const std::string& what);
  // Lets started host sums advance (MPI progresses non-blocking collectives only inside MPI calls).
  virtual void progress() {}
};

// Host memory: MPI_Iallreduce on MPI_COMM_WORLD under MPI, no work for a single process.
std::unique_ptr<BufferAllReduce> make_host_all_reduce(Communicator& communicator);

#ifdef ELECTRA_WITH_CUDA
// GPU memory on `device`: every rank of an MPI job calls this together (rank 0 makes the NCCL
// unique id, MPI broadcasts it, every rank joins with ncclCommInitRank). A sum not done within the
// peer deadline, an asynchronous NCCL error, or another rank giving up, ends this rank as
// PeerWatch::give_up does (dist/peer_watch.h).
std::unique_ptr<BufferAllReduce> make_nccl_all_reduce(Communicator& communicator, int device);
#endif

}  // namespace electra::dist
