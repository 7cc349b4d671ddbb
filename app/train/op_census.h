// Counts the top-level ATen operator calls of training steps by phase (app/train/step_phases.h)
// through an at::RecordFunction observer, the host's time in each phase, and the calls that make
// the host wait for the device
// (.item(), nonzero, equal, masked_select, unique, a blocking copy between the host and a device
// either way: host-device synchronisations on a GPU; on the CPU the same calls are counted, but
// the copies are not, there being no device; nor the scalar reads inside a fused optimizer's CPU
// kernel, which its CUDA kernel makes on the device).
// Top-level: a call made by our code or by an autograd node, not by another operator — about
// one kernel launch each on a GPU. For benchmarks (bench/step_profile) and tests; one at a time.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "app/train/step_phases.h"

namespace electra::train {

class OpCensus {
 public:
  OpCensus();  // starts observing (every thread)
  ~OpCensus();
  OpCensus(const OpCensus&) = delete;
  OpCensus& operator=(const OpCensus&) = delete;

  struct PhaseCounts {
    long long calls = 0;                           // top-level operator calls
    long long syncs = 0;                           // device-to-host synchronisations
    std::map<std::string, long long> by_operator;  // top-level calls by name
    // The host's time in the phase's scopes (StepPhaseScope), in any thread, less the scopes
    // nested in them: on a GPU the time to queue its work, on the CPU the work itself.
    double host_seconds = 0;
  };
  // The counts of one optimiser step (current_profiled_step() while they ran), or of every step.
  PhaseCounts counts(long long step, StepPhase phase) const;
  PhaseCounts total(StepPhase phase) const;
  void clear();

  // Called by the observer.
  void record(long long step, StepPhase phase, const char* name, bool top_level, bool sync);
  void add_host_time(long long step, StepPhase phase, double seconds);

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<long long, int>, PhaseCounts> counts_;  // [(step, phase)]
  uint64_t handle_ = 0, phase_handle_ = 0;
};

}  // namespace electra::train
