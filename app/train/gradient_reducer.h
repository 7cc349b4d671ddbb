// Data-parallel gradient averaging in buckets, overlapped with backward (DESIGN.md section 5).
// Every gradient is a view into one of a few flat buckets (parameters in reverse registration
// order, about the order backward finishes them), so a bucket is reduced without copies. A hook
// after each parameter's gradient accumulation counts the bucket down; when a bucket is complete
// on the final micro-batch of a step its sum starts at once, in bucket order (the same order on
// every rank) — on CUDA on a side stream while backward goes on, on the CPU as a non-blocking MPI
// all-reduce. finish() starts what backward did not (parameters without a gradient take part as
// zeros), waits for all and divides by the number of ranks.
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <vector>

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
  // module's gradients live in the buckets: clear them with zero_gradients(), never reset them.
  GradientReducer(torch::nn::Module& module, dist::Communicator& communicator,
                  GradientReducerOptions options = {});
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Zeroes every gradient; before the first backward of a step.
  void zero_gradients();
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
  std::unique_ptr<dist::BufferAllReduce> all_reduce_;  // host MPI, NCCL, or no-op
  std::vector<Bucket> buckets_;                        // [bucket], in reduction order
  std::vector<std::shared_ptr<void>> accumulators_;    // [parameter] keeps the hooks alive
  bool armed_ = false;                                 // final micro-batch: buckets may start
  size_t next_to_start_ = 0, started_in_backward_ = 0;
};

}  // namespace electra::train
