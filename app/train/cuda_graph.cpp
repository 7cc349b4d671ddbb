#include "app/train/cuda_graph.h"

#include <stdexcept>

#ifdef ELECTRA_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace electra::train {

#ifdef ELECTRA_WITH_CUDA

struct StepGraph::Impl {
  c10::Device device;
  int eager_steps;
  int calls = 0;
  c10::cuda::CUDAStream stream;
  std::unique_ptr<at::cuda::CUDAGraph> graph;

  Impl(c10::Device on, int eager)
      : device(on), eager_steps(eager), stream(c10::cuda::getStreamFromPool(false, on.index())) {}

  // `to` waits for what was queued on `from` so far (on the device; the host goes on).
  static void order(const c10::cuda::CUDAStream& from, const c10::cuda::CUDAStream& to) {
    at::cuda::CUDAEvent event;
    event.record(from);
    event.block(to);
  }
};

StepGraph::StepGraph(c10::Device device, int eager_steps) {
  if (!device.is_cuda()) {
    throw std::invalid_argument("--cuda-graph needs a CUDA device (the run is on " + device.str() +
                                "); leave it out on the CPU");
  }
  impl_ = std::make_unique<Impl>(device, eager_steps);
  // A captured step cannot reuse autocast's cast weights across replays.
  at::autocast::set_autocast_cache_enabled(false);
}

StepGraph::~StepGraph() = default;

bool StepGraph::captured() const {
  return impl_->graph != nullptr;
}

void StepGraph::run(const std::function<void()>& step) {
  Impl& impl = *impl_;
  const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream(impl.device.index());
  Impl::order(caller, impl.stream);
  {
    c10::cuda::CUDAStreamGuard on_step_stream(impl.stream);
    if (impl.graph) {
      impl.graph->replay();
    } else if (impl.calls < impl.eager_steps) {
      step();
    } else {
      impl.graph = std::make_unique<at::cuda::CUDAGraph>();
      impl.graph->capture_begin();
      step();  // recorded, not run
      impl.graph->capture_end();
      impl.graph->replay();
    }
  }
  ++impl.calls;
  Impl::order(impl.stream, caller);
}

#else

struct StepGraph::Impl {};

StepGraph::StepGraph(c10::Device device, int) {
  throw std::invalid_argument("--cuda-graph needs a CUDA device and a CUDA build (the run is on " +
                              device.str() + "); leave it out on the CPU");
}

StepGraph::~StepGraph() = default;

bool StepGraph::captured() const {
  return false;
}

void StepGraph::run(const std::function<void()>& step) {
  step();
}

#endif

}  // namespace electra::train
