#include "app/train/gradient_reducer.h"

#include <ATen/Functions.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "app/train/step_phases.h"

#ifdef ELECTRA_WITH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace electra::train {

struct GradientReducer::Bucket {
  at::Tensor buffer;  // [elements] fp32, on the parameters' device; the gradients are views of it
  at::Tensor wire;    // [elements] bf16 copy while a bf16 sum is in flight
  size_t parameters = 0, waiting = 0;  // gradients in the bucket / not yet final this backward
  std::unique_ptr<dist::PendingSum> sum;
};

namespace {

// Runs after the autograd engine accumulated a parameter's gradient (a post hook of its
// AccumulateGrad node), so the bucket already holds it.
class AfterAccumulation final : public torch::autograd::FunctionPostHook {
 public:
  explicit AfterAccumulation(std::function<void()> ready) : ready_(std::move(ready)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    ready_();
    return outputs;
  }

 private:
  std::function<void()> ready_;
};

}  // namespace

GradientReducer::GradientReducer(torch::nn::Module& module, dist::Communicator& communicator,
                                 GradientReducerOptions options)
    : communicator_(communicator), options_(options) {
  if (!(options_.bucket_megabytes > 0)) {
    throw std::invalid_argument("the gradient bucket size must be positive (--bucket-mb)");
  }
  // Each parameter once (shared embeddings appear under two names), last registered first.
  std::vector<at::Tensor> parameters;
  std::unordered_map<const void*, bool> seen;
  for (const auto& p : module.parameters()) {
    if (p.requires_grad() && !seen[p.unsafeGetTensorImpl()]) {
      seen[p.unsafeGetTensorImpl()] = true;
      parameters.push_back(p);
    }
  }
  std::reverse(parameters.begin(), parameters.end());
  if (parameters.empty()) return;
  const at::Device device = parameters.front().device();
  const int64_t bucket_elements =
      std::max<int64_t>(1, int64_t(options_.bucket_megabytes * 1e6 / 4));

  std::vector<std::vector<at::Tensor>> members;  // [bucket][parameter]
  int64_t filled = bucket_elements;
  for (const auto& p : parameters) {
    if (p.scalar_type() != at::kFloat || p.device() != device) {
      throw std::invalid_argument("gradient reduction needs fp32 parameters on one device (found " +
                                  std::string(c10::toString(p.scalar_type())) + " on " +
                                  p.device().str() + ")");
    }
    if (filled >= bucket_elements) members.emplace_back(), filled = 0;
    members.back().push_back(p);
    filled += p.numel();
  }

  buckets_.resize(members.size());
  torch::NoGradGuard no_grad;
  for (size_t b = 0; b < members.size(); ++b) {
    int64_t elements = 0;
    for (const auto& p : members[b]) elements += p.numel();
    Bucket& bucket = buckets_[b];
    bucket.buffer = at::zeros({elements}, at::TensorOptions().dtype(at::kFloat).device(device));
    bucket.parameters = members[b].size();
    int64_t offset = 0;
    for (auto& p : members[b]) {
      // The existing gradient (if any) carries over into the bucket.
      at::Tensor view = bucket.buffer.narrow(0, offset, p.numel()).view_as(p);
      if (p.grad().defined()) view.copy_(p.grad());
      p.mutable_grad() = view;
      offset += p.numel();
      if (communicator_.size() > 1) {
        auto accumulator = torch::autograd::impl::grad_accumulator(p);
        accumulator->add_post_hook(
            std::make_unique<AfterAccumulation>([this, b] { parameter_ready(b); }));
        accumulators_.push_back(std::move(accumulator));
      }
    }
  }

  if (communicator_.size() == 1) {
    all_reduce_ = dist::make_host_all_reduce(communicator_);  // nothing to do
  } else if (device.is_cuda()) {
#ifdef ELECTRA_WITH_CUDA
    all_reduce_ = dist::make_nccl_all_reduce(communicator_, int(device.index()),
                                             dist::collective_timeout_seconds());
#else
    throw std::logic_error("CUDA gradients in a build without CUDA and NCCL");
#endif
  } else {
    all_reduce_ = dist::make_host_all_reduce(communicator_);
  }
}

GradientReducer::~GradientReducer() = default;

size_t GradientReducer::bucket_count() const {
  return buckets_.size();
}

void GradientReducer::zero_gradients() {
  for (auto& bucket : buckets_) bucket.buffer.zero_();
}

void GradientReducer::before_backward(bool final_micro_batch) {
  armed_ = final_micro_batch && communicator_.size() > 1;
  next_to_start_ = 0, started_in_backward_ = 0;
  for (auto& bucket : buckets_) bucket.waiting = bucket.parameters;
}

void GradientReducer::parameter_ready(size_t b) {
  if (!armed_) return;
  Bucket& bucket = buckets_[b];
  if (bucket.waiting > 0) --bucket.waiting;
  // In bucket order only: every rank starts the same sums in the same order.
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_].waiting == 0) {
    start(next_to_start_++);
    ++started_in_backward_;
  }
  all_reduce_->progress();
}

void GradientReducer::start(size_t b) {
  StepPhaseScope phase(StepPhase::kReduction);
  Bucket& bucket = buckets_[b];
  void* stream = nullptr;
#ifdef ELECTRA_WITH_CUDA
  if (bucket.buffer.is_cuda()) {
    stream = c10::cuda::getCurrentCUDAStream(bucket.buffer.device().index()).stream();
  }
#endif
  const bool bf16 = options_.wire_type == dist::ElementType::kBfloat16;
  if (bf16) bucket.wire = bucket.buffer.to(at::kBFloat16);  // queued on `stream`
  at::Tensor& data = bf16 ? bucket.wire : bucket.buffer;
  bucket.sum = all_reduce_->start_sum(data.data_ptr(), size_t(data.numel()), options_.wire_type,
                                      stream, "gradient bucket " + std::to_string(b));
}

void GradientReducer::finish() {
  if (communicator_.size() == 1) return;
  StepPhaseScope phase(StepPhase::kReduction);
  armed_ = false;
  // Buckets whose every gradient did not arrive in backward (parameters the loss did not use).
  while (next_to_start_ < buckets_.size()) start(next_to_start_++);
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    bucket.sum->wait();
    bucket.sum.reset();
    if (bucket.wire.defined()) bucket.buffer.copy_(bucket.wire), bucket.wire = at::Tensor();
    bucket.buffer.div_(double(communicator_.size()));
  }
}

}  // namespace electra::train
