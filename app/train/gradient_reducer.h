// Data-parallel gradient averaging in buckets, overlapped with backward (DESIGN.md section 5).
// The gradients live in the module's flat storage (app/train/flat_parameters.h: parameters in
// reverse registration order, about the order backward finishes them) and a bucket is a range of
// it, so a bucket is reduced without copies. A hook
// after each parameter's gradient accumulation counts the bucket down; when a bucket is complete
// on the final micro-batch of a step its sum starts at once, in bucket order (the same order on
// every rank) — on CUDA on a side stream while backward goes on (NCCL averages as it reduces:
// ncclAvg, for fp32 or a power-of-two number of ranks), on the CPU as a non-blocking MPI
// all-reduce. finish() starts what backward did not (parameters without a gradient take part as
// zeros) and waits for all — on CUDA the compute stream waits on the device, the host goes on
// queueing the step — and divides MPI's sums by the number of ranks. A few fp32 extras (sums the
// step needs from every rank: non-finite losses, rewards) travel with the last bucket's sums.
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <vector>

#include "app/train/flat_parameters.h"
#include "dist/buffer_all_reduce.h"
#include "dist/communicator.h"

namespace electra::train {

struct GradientReducerOptions {
  double bucket_megabytes = 25;  // fp32 gradient bytes per bucket (a parameter is never split)
  dist::ElementType wire_type = dist::ElementType::kFloat32;  // kBfloat16 halves the traffic
};

class GradientReducer {
 public:
  // Every rank constructs one together, with the same module (on its device). From here on the
  // module's gradients live in its flat storage: clear them with zero_gradients(), never reset
  // them.
  GradientReducer(torch::nn::Module& module, dist::Communicator& communicator,
                  GradientReducerOptions options = {});
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Zeroes every gradient and the extras; before the first backward of a step.
  void zero_gradients();
  // [kExtras] fp32 on the gradients' device, zeroed by zero_gradients(): add to them during the
  // step; after finish() they hold the sums over all ranks (not divided).
  static constexpr int64_t kExtras = 4;
  at::Tensor& extras() { return extras_; }
  // Before each backward of a step: `final_micro_batch` on its last one, the only backward whose
  // finished buckets start reducing (gradients of earlier micro-batches only accumulate).
  void before_backward(bool final_micro_batch);
  // After the final backward: every gradient then holds the mean over ranks.
  void finish();

  size_t bucket_count() const;
  // How many buckets of the last finish()ed step started reducing during backward.
  size_t buckets_started_in_backward() const { return started_in_backward_; }

 private:
  struct Bucket;
  void parameter_ready(size_t bucket);
  void start(size_t bucket);

  dist::Communicator& communicator_;
  GradientReducerOptions options_;
  std::shared_ptr<FlatParameters> flat_;
  std::unique_ptr<dist::BufferAllReduce> all_reduce_;  // host MPI, NCCL, or no-op
  std::vector<Bucket> buckets_;                        // [bucket], in reduction order
  at::Tensor extras_;                                  // [kExtras]
  std::unique_ptr<dist::PendingSum> extras_sum_;
  std::vector<std::shared_ptr<void>> accumulators_;  // [parameter] keeps the hooks alive
  bool armed_ = false;                               // final micro-batch: buckets may start
  bool averaging_ = false;  // the backend averages (ncclAvg): nothing to divide after it
  size_t next_to_start_ = 0, started_in_backward_ = 0;
};

}  // namespace electra::train
