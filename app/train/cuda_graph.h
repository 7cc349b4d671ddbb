// --cuda-graph: the whole training step (forward, backward, the reduction of a one-rank run, the
// optimiser) captured once into a CUDA graph and replayed, so the host issues one launch per step
// instead of thousands. The step must be static: the same shapes and addresses every time (its
// batch in one device buffer, the learning rate a device scalar), no host synchronisation, no
// random generator reseeded inside it (dropout is seeded before each replay, which the graph
// reads). The step runs on a stream of its own, ordered after and before the caller's stream.
// CPU builds have the class, but constructing it fails with a clear message.
#pragma once

#include <c10/core/Device.h>

#include <functional>
#include <memory>

namespace electra::train {

class StepGraph {
 public:
  // `eager_steps`: calls run eagerly before the capture (allocator, cuBLAS and autograd warm up).
  StepGraph(c10::Device device, int eager_steps = 2);
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // Runs `step`: eagerly for the first eager_steps calls, then captures it once (and replays the
  // capture, so that call trains too); later calls only replay (`step` is not called). What the
  // step's outputs were written to during the capture holds each replay's results.
  void run(const std::function<void()>& step);
  // Runs `step` eagerly on the graph's stream, whatever was captured: for a batch the capture
  // does not serve (one with padding, when the step was captured without the attention mask).
  void run_eagerly(const std::function<void()>& step);
  bool captured() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace electra::train
