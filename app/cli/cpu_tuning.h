// What the CPU runtime needs before LibTorch's libraries start, set by electra itself so that a
// user who runs it directly or under mpirun gets it without sourcing launch/env.sh:
// - OpenBLAS 0.3.21 takes some recent CPUs for a "Prescott" (Intel family 6 model 207, for one)
//   and runs its slowest kernels there (3x slower matrix products): when the core it chose is
//   weaker than what the CPU's features allow, OPENBLAS_CORETYPE names the right one
//   (SkylakeX for AVX-512, Haswell for AVX2 + FMA);
// - OpenMP threads that spin while OpenBLAS's threads work slow the step down:
//   OMP_WAIT_POLICY=PASSIVE.
// Both are read when the libraries load, before main(): so electra sets them and starts itself
// again (exec, the same process id), once, and says what it did (on rank 0). What the user set
// is kept.
#pragma once

#include <string>

namespace electra::cli {

// What is missing, as NAME=VALUE pairs with the reason; empty when nothing. `openblas_core` is
// the core OpenBLAS chose ("" when OpenBLAS is not the BLAS).
struct CpuTuning {
  std::string openblas_coretype;  // to set, or ""
  bool passive_wait = false;      // set OMP_WAIT_POLICY=PASSIVE
  std::string reason;             // one line for the user
};
CpuTuning cpu_tuning_needed(const std::string& openblas_core);

// The core the loaded OpenBLAS chose ("" when the BLAS is not OpenBLAS).
std::string openblas_core();

// Sets what is missing and restarts this process with it (does not return then); returns when
// nothing is missing, when this is the restarted process, or when the restart fails.
void tune_cpu_runtime(char** argv);

}  // namespace electra::cli
