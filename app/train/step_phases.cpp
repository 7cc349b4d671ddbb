#include "app/train/step_phases.h"

namespace electra::train {

namespace {
std::atomic<int> g_phase{int(StepPhase::kOther)};
std::atomic<long long> g_step{0};
}  // namespace

const char* phase_name(StepPhase phase) {
  switch (phase) {
    case StepPhase::kLoading:
      return "loading";
    case StepPhase::kMaskingSampling:
      return "masking_sampling";
    case StepPhase::kForward:
      return "forward";
    case StepPhase::kBackward:
      return "backward";
    case StepPhase::kReduction:
      return "reduction";
    case StepPhase::kOptimizer:
      return "optimizer";
    case StepPhase::kCheck:
      return "boundary_check";
    case StepPhase::kBoundary:
      return "boundary";
    case StepPhase::kEvaluation:
      return "evaluation";
    default:
      return "other";
  }
}

StepPhase current_step_phase() {
  return StepPhase(g_phase.load(std::memory_order_relaxed));
}

long long current_profiled_step() {
  return g_step.load(std::memory_order_relaxed);
}

void mark_step_begin(long long step) {
  g_step.store(step, std::memory_order_relaxed);
}

StepPhaseScope::StepPhaseScope(StepPhase phase) : previous_(current_step_phase()) {
  // An evaluation runs the step's own code (masking, the forward pass): all of it is evaluation.
  if (previous_ == StepPhase::kEvaluation) phase = StepPhase::kEvaluation;
  g_phase.store(int(phase), std::memory_order_relaxed);
  if (record_.isActive()) record_.before(phase_name(phase));
}

StepPhaseScope::~StepPhaseScope() {
  g_phase.store(int(previous_), std::memory_order_relaxed);
}

}  // namespace electra::train
