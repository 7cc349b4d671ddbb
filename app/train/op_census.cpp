#include "app/train/op_census.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace electra::train {

namespace {

OpCensus* g_census = nullptr;
thread_local int t_operator_depth = 0;        // operators now running in this thread
thread_local bool t_in_fused_kernel = false;  // the top-level operator is a fused optimizer's

bool synchronises(const char* name) {
  for (const char* sync :
       {"aten::_local_scalar_dense", "aten::nonzero", "aten::equal", "aten::masked_select",
        "aten::_unique2", "aten::unique_dim", "aten::unique_consecutive"}) {
    if (!std::strcmp(name, sync)) return true;
  }
  return false;
}

// Operators are named aten::*; other records (an autograd engine's "evaluate_function: X") are
// transparent: the operators they call are top-level.
bool is_operator(const char* name) {
  return std::strncmp(name, "aten::", 6) == 0;
}

// A blocking copy between the host and a device, either way: LibTorch waits for the stream (a
// copy to the host for its data; one from pageable host memory synchronises the stream too).
bool blocking_transfer(const at::RecordFunction& fn) {
  const auto inputs = fn.inputs();
  if (inputs.size() < 2 || !inputs[0].isTensor() || !inputs[1].isTensor()) return false;
  const at::Tensor &to = inputs[0].toTensor(), &from = inputs[1].toTensor();
  const bool non_blocking = inputs.size() > 2 && inputs[2].isBool() && inputs[2].toBool();
  return to.defined() && from.defined() && to.is_cpu() != from.is_cpu() && !non_blocking;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  const char* name = fn.name();
  if (!is_operator(name)) return nullptr;
  if (t_operator_depth == 0) t_in_fused_kernel = std::strncmp(name, "aten::_fused_", 13) == 0;
  if (g_census) {
    // The CPU kernels of the fused optimizers read their scalars (the step count) with .item();
    // their CUDA kernels read them on the device: not a synchronisation to count.
    const bool sync =
        !t_in_fused_kernel &&
        (synchronises(name) || (!std::strcmp(name, "aten::copy_") && blocking_transfer(fn)));
    g_census->record(current_profiled_step(), current_step_phase(), name, t_operator_depth == 0,
                     sync);
  }
  ++t_operator_depth;
  return nullptr;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext*) {
  if (is_operator(fn.name())) --t_operator_depth;
}

// A phase's scope (StepPhaseScope's user-scope record): its phase and step, and its own time —
// a scope nested in it (masking inside the forward pass) stops its clock meanwhile.
struct PhaseScope : at::ObserverContext {
  StepPhase phase;
  long long step;
  PhaseScope* outer;
  std::chrono::steady_clock::time_point since;  // when its clock last started
  double seconds = 0;
};
thread_local PhaseScope* t_innermost_scope = nullptr;

double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::unique_ptr<at::ObserverContext> on_phase_start(const at::RecordFunction&) {
  const auto now = std::chrono::steady_clock::now();
  auto scope = std::make_unique<PhaseScope>();
  scope->phase = current_step_phase(), scope->step = current_profiled_step();
  scope->outer = t_innermost_scope, scope->since = now;
  if (scope->outer) scope->outer->seconds += seconds_between(scope->outer->since, now);
  t_innermost_scope = scope.get();
  return scope;
}

void on_phase_end(const at::RecordFunction&, at::ObserverContext* context) {
  auto* scope = static_cast<PhaseScope*>(context);
  if (!scope) return;
  const auto now = std::chrono::steady_clock::now();
  scope->seconds += seconds_between(scope->since, now);
  t_innermost_scope = scope->outer;
  if (scope->outer) scope->outer->since = now;
  if (g_census) g_census->add_host_time(scope->step, scope->phase, scope->seconds);
}

}  // namespace

OpCensus::OpCensus() {
  if (g_census) throw std::logic_error("OpCensus: one at a time");
  g_census = this;
  handle_ = at::addGlobalCallback(at::RecordFunctionCallback(on_start, on_end)
                                      .needsInputs(true)  // to see which copies block the host
                                      .scopes({at::RecordScope::FUNCTION}));
  phase_handle_ = at::addGlobalCallback(at::RecordFunctionCallback(on_phase_start, on_phase_end)
                                            .scopes({at::RecordScope::USER_SCOPE}));
}

OpCensus::~OpCensus() {
  at::removeCallback(handle_);
  at::removeCallback(phase_handle_);
  g_census = nullptr;
}

void OpCensus::record(long long step, StepPhase phase, const char* name, bool top_level,
                      bool sync) {
  if (!top_level && !sync) return;
  std::lock_guard<std::mutex> lock(mutex_);
  PhaseCounts& counts = counts_[{step, int(phase)}];
  if (top_level) ++counts.calls, ++counts.by_operator[name];
  if (sync) ++counts.syncs;
}

void OpCensus::add_host_time(long long step, StepPhase phase, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  counts_[{step, int(phase)}].host_seconds += seconds;
}

OpCensus::PhaseCounts OpCensus::counts(long long step, StepPhase phase) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = counts_.find({step, int(phase)});
  return found == counts_.end() ? PhaseCounts{} : found->second;
}

OpCensus::PhaseCounts OpCensus::total(StepPhase phase) const {
  std::lock_guard<std::mutex> lock(mutex_);
  PhaseCounts sum;
  for (const auto& [key, counts] : counts_) {
    if (key.second != int(phase)) continue;
    sum.calls += counts.calls, sum.syncs += counts.syncs, sum.host_seconds += counts.host_seconds;
    for (const auto& [name, n] : counts.by_operator) sum.by_operator[name] += n;
  }
  return sum;
}

void OpCensus::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  counts_.clear();
}

}  // namespace electra::train
