// Under mpirun -np 2 on a host with at least 2 GPUs (NCCL wants one GPU per rank; skipped
// otherwise and in CPU builds): the NCCL all-reduce sums fp32 and bf16 buffers, and the bucketed
// reducer, overlapping backward on a side stream, averages exactly what an unbucketed all-reduce
// of the same gradients averages.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "app/model/electra_model.h"
#include "app/train/electra_step.h"
#include "app/train/gradient_reducer.h"
#include "dist/buffer_all_reduce.h"
#include "dist/communicator.h"
#include "gpu/gpu_test_util.h"

namespace electra::train {
namespace {

dist::Communicator& world() {
  static std::unique_ptr<dist::Communicator> communicator = dist::make_world_communicator();
  return *communicator;
}

// Why this test cannot run here ("" when it can); `cuda_missing`: because there is no CUDA at
// all, which fails the test under ELECTRA_REQUIRE_GPU=1 instead of skipping it.
std::string skip_reason(bool& cuda_missing) {
  cuda_missing = true;
#ifndef ELECTRA_WITH_CUDA
  return "a CPU build (no NCCL)";
#else
  if (!torch::cuda::is_available()) return "no CUDA device";
  cuda_missing = false;
  if (world().size() < 2) return "run under mpirun -np 2";
  if (int(torch::cuda::device_count()) < world().size()) {
    return "NCCL needs one GPU per rank: " + std::to_string(torch::cuda::device_count()) +
           " GPU(s) for " + std::to_string(world().size()) + " ranks";
  }
  return "";
#endif
}

#define SKIP_UNLESS_RUNNABLE()                                                \
  do {                                                                        \
    bool cuda_missing = false;                                                \
    if (const auto reason = skip_reason(cuda_missing); !reason.empty()) {     \
      if (cuda_missing && electra::testing::gpu_required()) FAIL() << reason; \
      GTEST_SKIP() << reason;                                                 \
    }                                                                         \
  } while (0)

at::Device my_gpu() {
  return at::Device(at::kCUDA, c10::DeviceIndex(world().local_rank()));
}

TEST(NcclAllReduce, SumsFp32AndBf16Buffers) {
  SKIP_UNLESS_RUNNABLE();
#ifdef ELECTRA_WITH_CUDA
  auto nccl = dist::make_nccl_all_reduce(world(), world().local_rank());
  const int w = world().size();
  for (auto type : {at::kFloat, at::kBFloat16}) {
    at::Tensor values = at::full({1000}, float(world().rank() + 1),
                                 at::TensorOptions().device(my_gpu()).dtype(type));
    auto pending = nccl->start_sum(
        values.data_ptr(), 1000,
        type == at::kFloat ? dist::ElementType::kFloat32 : dist::ElementType::kBfloat16, nullptr,
        "a test buffer");
    pending->wait();  // the stream waits for the sum on the device; the read below follows it
    EXPECT_TRUE(values.to(at::kFloat).eq(float(w * (w + 1) / 2)).all().item<bool>());
  }
  // ncclAvg: the mean as it reduces (the gradient reducer divides nothing after it).
  ASSERT_TRUE(nccl->averages());
  at::Tensor values = at::full({1000}, float(2 * (world().rank() + 1)),
                               at::TensorOptions().device(my_gpu()).dtype(at::kFloat));
  nccl->start_average(values.data_ptr(), 1000, dist::ElementType::kFloat32, nullptr, "a mean")
      ->wait();
  EXPECT_TRUE(values.eq(float(w + 1)).all().item<bool>());
#endif
}

TEST(NcclAllReduce, BucketsOverlapBackwardAndEqualTheUnbucketedReference) {
  SKIP_UNLESS_RUNNABLE();
  torch::manual_seed(1234);
  model::ElectraModel pair(model::ModelConfig::load("small"));
  pair->to(my_gpu());
  StepOptions step;
  step.masking.max_predictions = max_predictions_per_seq(0.15, 128);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(100 + world().rank());
  auto ids = at::randint(1000, 30000, {8, 128}, generator, at::kLong);
  ids.select(1, 0).fill_(101);
  const Batch batch{ids.to(my_gpu()), at::ones_like(ids).to(my_gpu()),
                    at::zeros_like(ids).to(my_gpu())};
  const std::vector<uint64_t> keys{1, 2, 3, 4, 5, 6, 7, 8};
  GradientReducerOptions options;
  options.bucket_megabytes = 4;
  GradientReducer reducer(*pair, world(), options);
  const auto backward = [&] {
    torch::manual_seed(7);
    electra_forward(*pair, batch, step, RowRandom(keys)).total.backward();
  };
  reducer.zero_gradients();
  reducer.before_backward(false);
  backward();
  std::vector<at::Tensor> reference;  // the local gradients summed through MPI on the host
  for (const auto& p : pair->parameters()) {
    at::Tensor g = p.grad().to(at::kCPU).contiguous();
    world().all_reduce_sum(g.data_ptr<float>(), size_t(g.numel()));
    reference.push_back(g / double(world().size()));
  }
  reducer.zero_gradients();
  reducer.before_backward(true);
  backward();
  const size_t started = reducer.buckets_started_in_backward();
  reducer.finish();
  double difference = 0;
  size_t i = 0;
  for (const auto& p : pair->parameters()) {
    difference =
        std::max(difference, (p.grad().to(at::kCPU) - reference[i++]).abs().max().item<double>());
  }
  EXPECT_LE(difference, 1e-6);
  EXPECT_GE(started, reducer.bucket_count() / 2) << "buckets did not start during backward";
}

}  // namespace
}  // namespace electra::train
