// The parts of a training step, named for profilers (bench/step_profile, tests that count
// operator calls, the PyTorch profiler): a StepPhaseScope marks a stretch of the step as one
// phase (scopes nest: the innermost is current) and opens an at::RecordFunction user scope of the
// phase's name. Nearly free when nothing observes: one atomic store and one flag test.
#pragma once

#include <ATen/record_function.h>

#include <array>
#include <atomic>

namespace electra::train {

enum class StepPhase : int {
  kOther,            // outside any step (set-up, evaluation, checkpoints)
  kLoading,          // batches from the loader to the device
  kMaskingSampling,  // masks, generator samples, the corrupted input
  kForward,          // generator and discriminator, losses
  kBackward,
  kReduction,   // gradient averaging across ranks
  kOptimizer,   // clipping and the update
  kBoundary,    // the step's figures kept for the boundary check
  kCheck,       // the boundary check, every few steps: skipped steps and signals read and agreed
  kEvaluation,  // an evaluation on the validation rows (not part of a step; the phases opened
                // within it count as evaluation)
  kCount,
};

const char* phase_name(StepPhase phase);
inline constexpr std::array<StepPhase, 8> kStepPhases = {
    StepPhase::kLoading,   StepPhase::kMaskingSampling, StepPhase::kForward,  StepPhase::kBackward,
    StepPhase::kReduction, StepPhase::kOptimizer,       StepPhase::kBoundary, StepPhase::kCheck};

// The phase now running (in any thread: the autograd engine's too).
StepPhase current_step_phase();
// The optimiser step now running (set by the trainer as each step starts), for per-step counts.
long long current_profiled_step();
void mark_step_begin(long long step);

class StepPhaseScope {
 public:
  explicit StepPhaseScope(StepPhase phase);
  ~StepPhaseScope();
  StepPhaseScope(const StepPhaseScope&) = delete;
  StepPhaseScope& operator=(const StepPhaseScope&) = delete;

 private:
  StepPhase previous_;
  at::RecordFunction record_{at::RecordScope::USER_SCOPE};
};

}  // namespace electra::train
