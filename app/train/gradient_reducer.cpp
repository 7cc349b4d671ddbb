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
    : communicator_(communicator), options_(options), flat_(FlatParameters::of(module)) {
  if (!(options_.bucket_megabytes > 0)) {
    throw std::invalid_argument("the gradient bucket size must be positive (--bucket-mb)");
  }
  flat_->bind();
  if (flat_->groups().size() > 1) {
    const auto& other = flat_->groups()[1].values;
    throw std::invalid_argument("gradient reduction needs fp32 parameters on one device (found " +
                                std::string(c10::toString(other.scalar_type())) + " on " +
                                other.device().str() + " too)");
  }
  const at::Device device =
      flat_->groups().empty() ? at::Device(at::kCPU) : flat_->groups().front().values.device();
  extras_ = at::zeros({kExtras}, at::TensorOptions().dtype(at::kFloat).device(device));
  if (flat_->groups().empty()) return;
  FlatParameters::Group& group = flat_->groups().front();
  if (group.values.scalar_type() != at::kFloat) {
    throw std::invalid_argument("gradient reduction needs fp32 parameters (found " +
                                std::string(c10::toString(group.values.scalar_type())) + ")");
  }
  const int64_t bucket_elements =
      std::max<int64_t>(1, int64_t(options_.bucket_megabytes * 1e6 / 4));

  // Buckets: consecutive parameters of the flat layout, about bucket_elements each (a parameter
  // is never split).
  std::vector<std::pair<int64_t, size_t>> starts;  // (first element, parameters)
  int64_t filled = bucket_elements;
  for (size_t s = 0; s < group.segments.size(); ++s) {
    if (filled >= bucket_elements) starts.push_back({group.segments[s].offset, 0}), filled = 0;
    ++starts.back().second;
    filled += group.segments[s].numel;
  }
  buckets_.resize(starts.size());
  size_t segment = 0;
  for (size_t b = 0; b < starts.size(); ++b) {
    const int64_t end = b + 1 < starts.size() ? starts[b + 1].first : group.gradients.numel();
    Bucket& bucket = buckets_[b];
    bucket.buffer = group.gradients.narrow(0, starts[b].first, end - starts[b].first);
    bucket.parameters = starts[b].second;
    for (size_t i = 0; i < bucket.parameters; ++i, ++segment) {
      at::Tensor& p = group.segments[segment].parameter;
      if (communicator_.size() > 1 && p.requires_grad()) {
        auto accumulator = torch::autograd::impl::grad_accumulator(p);
        accumulator->add_post_hook(
            std::make_unique<AfterAccumulation>([this, b] { parameter_ready(b); }));
        // A shared_ptr up to LibTorch 2.14, an intrusive_ptr from 2.15: held either way.
        accumulators_.push_back(std::make_shared<decltype(accumulator)>(std::move(accumulator)));
      } else if (communicator_.size() > 1) {
        --bucket.parameters;  // frozen from the start: never ready, reduced in finish()
      }
    }
  }

  if (communicator_.size() == 1) {
    all_reduce_ = dist::make_host_all_reduce(communicator_);  // nothing to do
  } else if (device.is_cuda()) {
#ifdef ELECTRA_WITH_CUDA
    all_reduce_ = dist::make_nccl_all_reduce(communicator_, int(device.index()));
#else
    throw std::logic_error("CUDA gradients in a build without CUDA and NCCL");
#endif
  } else {
    all_reduce_ = dist::make_host_all_reduce(communicator_);
  }
  // NCCL averages by scaling each input by 1/ranks before the sum; in bf16 that factor is itself
  // rounded (+0.2% for 3 ranks) unless the ranks are a power of two: then sum, and divide in fp32.
  const int ranks = communicator_.size();
  averaging_ = all_reduce_->averages() &&
               (options_.wire_type == dist::ElementType::kFloat32 || (ranks & (ranks - 1)) == 0);
}

GradientReducer::~GradientReducer() = default;

size_t GradientReducer::bucket_count() const {
  return buckets_.size();
}

void GradientReducer::zero_gradients() {
  flat_->bind();
  flat_->zero_gradients();
  extras_.zero_();
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
  // The mean where the backend divides as it reduces (NCCL), else the sum (divided in finish()).
  const std::string what = "gradient bucket " + std::to_string(b);
  bucket.sum = averaging_ ? all_reduce_->start_average(data.data_ptr(), size_t(data.numel()),
                                                       options_.wire_type, stream, what)
                          : all_reduce_->start_sum(data.data_ptr(), size_t(data.numel()),
                                                   options_.wire_type, stream, what);
}

void GradientReducer::finish() {
  if (communicator_.size() == 1) return;
  StepPhaseScope phase(StepPhase::kReduction);
  armed_ = false;
  // Buckets whose every gradient did not arrive in backward (parameters the loss did not use).
  while (next_to_start_ < buckets_.size()) start(next_to_start_++);
  void* stream = nullptr;
#ifdef ELECTRA_WITH_CUDA
  if (extras_.is_cuda())
    stream = c10::cuda::getCurrentCUDAStream(extras_.device().index()).stream();
#endif
  extras_sum_ = all_reduce_->start_sum(extras_.data_ptr(), size_t(extras_.numel()),
                                       dist::ElementType::kFloat32, stream, "step extras");
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    bucket.sum->wait();
    bucket.sum.reset();
    if (bucket.wire.defined()) bucket.buffer.copy_(bucket.wire), bucket.wire = at::Tensor();
    if (!averaging_) bucket.buffer.div_(double(communicator_.size()));
  }
  extras_sum_->wait();
  extras_sum_.reset();
}

}  // namespace electra::train
