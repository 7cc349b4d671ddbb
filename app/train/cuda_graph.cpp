#include "app/train/cuda_graph.h"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "data/debug_detail.h"

#ifdef ELECTRA_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/core/CachingHostAllocator.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace electra::train {

#ifdef ELECTRA_WITH_CUDA

namespace {

// While alive, autocast caches no cast weights; restores what was set before.
class AutocastCacheOff {
 public:
  AutocastCacheOff() : was_(at::autocast::is_autocast_cache_enabled()) {
    at::autocast::set_autocast_cache_enabled(false);
  }
  ~AutocastCacheOff() { at::autocast::set_autocast_cache_enabled(was_); }
  AutocastCacheOff(const AutocastCacheOff&) = delete;
  AutocastCacheOff& operator=(const AutocastCacheOff&) = delete;

 private:
  bool was_;
};

// A CUDA generator's state out of capture mode: up to LibTorch 2.1x one flag that only a
// successful capture_end() clears (an eager draw after a failed capture then asserts); later
// versions keep a state per capture and have no flag (nothing to undo).
template <typename State>
auto leave_capture_mode(State& state, int) -> decltype(state.capturing_ = false, void()) {
  state.capturing_ = false;
}
template <typename State>
void leave_capture_mode(State&, long) {}

// The first line of an error (LibTorch's carry a backtrace below it).
std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

struct StepGraph::Impl {
  c10::Device device;
  int eager_steps;
  int calls = 0;
  c10::cuda::CUDAStream stream;
  // LibTorch's graph, and whether its capture ended (its destructor then gives back the pool).
  struct Graph : at::cuda::CUDAGraph {
    bool ended() const { return capture_ended_; }
    // capture_begin() put the CUDA generators in capture mode and only capture_end()'s epilogue
    // takes them out: after a failed capture every eager draw would assert.
    void abandon_generator_capture() {
      for (auto& entry : captured_generator_states_) leave_capture_mode(*entry.first, 0);
    }
  };
  std::unique_ptr<Graph> graph;

  std::string why_eager;  // set when the capture failed: every call then runs eagerly

  Impl(c10::Device on, int eager)
      : device(on), eager_steps(eager), stream(c10::cuda::getStreamFromPool(false, on.index())) {}

  // Captures `step` into `graph` (on the current stream, the step's own). On a throw during the
  // capture it ends the capture (an open global-mode capture breaks every later CUDA call of the
  // process), gives back the graph's memory pool, clears CUDA's non-sticky error, leaves `graph`
  // null and `why_eager` saying why; returns whether it captured.
  bool capture(const std::function<void()>& step) {
    const at::cuda::MempoolId_t pool = at::cuda::graph_pool_handle();
    auto captured = std::make_unique<Graph>();
    try {
      // Autocast's cache of cast weights is off while the step is recorded (a cached cast would
      // be freed memory at replay); eager steps and evaluation keep it.
      AutocastCacheOff no_cache;
      captured->capture_begin(pool);
      step();  // recorded, not run
      captured->capture_end();
      graph = std::move(captured);
      return true;
    } catch (const std::exception& e) {
      why_eager = first_line(e.what());
    }
    if (why_eager.empty()) why_eager = "unknown error";
    captured->abandon_generator_capture();
    end_failed_capture(pool, /*pool_released_by_graph=*/captured->ended());
    captured.reset();
    (void)cudaGetLastError();  // the capture's own error is not sticky: clear it
    return false;
  }

  // What a failed capture may leave: the stream still capturing, the device and the pinned host
  // allocators still sending the stream's allocations to the graph's pools (through a filter
  // that points at the graph), the pools held.
  void end_failed_capture(const at::cuda::MempoolId_t& pool, bool pool_released_by_graph) const {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream.stream(), &status) == cudaSuccess &&
        status != cudaStreamCaptureStatusNone) {
      cudaGraph_t partial = nullptr;
      (void)cudaStreamEndCapture(stream.stream(), &partial);  // fails when invalidated: ended
      if (partial) (void)cudaGraphDestroy(partial);
    }
    at::HostAllocator* host = at::getHostAllocator(at::kCUDA);
    try {
      c10::cuda::CUDACachingAllocator::endAllocateToPool(device.index(), pool);
    } catch (const std::exception&) {  // capture_end() had ended it
    }
    try {
      host->end_allocate_to_pool(pool);
    } catch (const std::exception&) {
    }
    if (pool_released_by_graph) return;
    try {
      c10::cuda::CUDACachingAllocator::releasePool(device.index(), pool);
    } catch (const std::exception&) {  // capture_begin() failed before making it
    }
    try {
      host->release_pool(pool);
    } catch (const std::exception&) {
    }
  }

  // Runs `body` with the step's stream current, ordered after what the caller's stream queued
  // so far and before what it queues next.
  void on_step_stream(const std::function<void()>& body) const {
    const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream(device.index());
    order(caller, stream);
    {
      c10::cuda::CUDAStreamGuard on_step_stream(stream);
      body();
    }
    order(stream, caller);
  }

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
}

StepGraph::~StepGraph() = default;

bool StepGraph::captured() const {
  return impl_->graph != nullptr;
}

void StepGraph::run(const std::function<void()>& step) {
  Impl& impl = *impl_;
  impl.on_step_stream([&] {
    if (impl.graph) {
      impl.graph->replay();
    } else if (impl.calls < impl.eager_steps || !impl.why_eager.empty()) {
      step();
    } else if (impl.capture(step)) {
      impl.graph->replay();
    } else {
      std::fprintf(stderr,
                   "--cuda-graph: the step could not be captured (one of its operations cannot "
                   "be recorded in a CUDA graph; ELECTRA_DEBUG=1 says which); training on "
                   "without the graph%s\n",
                   data::debug_detail(impl.why_eager).c_str());
      step();  // none of the failed capture ran on the device: this call's step, eagerly
    }
  });
  ++impl.calls;
}

void StepGraph::run_eagerly(const std::function<void()>& step) {
  impl_->on_step_stream(step);
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

void StepGraph::run_eagerly(const std::function<void()>& step) {
  step();
}

#endif

}  // namespace electra::train
