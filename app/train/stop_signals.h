// SIGTERM and SIGUSR1 (SLURM's --signal=USR1@120, forwarded by mpirun) only set a flag here
// (DESIGN.md section 5); the trainer's ranks agree on it at the next step boundary, write a
// checkpoint and exit with kExitInterrupted so that a batch script can requeue the job. The first
// SIGINT (Ctrl-C) does the same (said at once on stderr); a second one exits at once (130).
#pragma once

namespace electra::train {

// Installs the handlers (idempotent).
void catch_stop_signals();
// The signal received since catch_stop_signals(), or 0.
int stop_signal();
// "SIGTERM", "SIGUSR1" or "SIGINT".
const char* stop_signal_name(int signal);

}  // namespace electra::train
