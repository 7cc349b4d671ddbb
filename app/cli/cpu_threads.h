// How many CPU threads a rank uses for LibTorch's intra-op work: --threads when given, else
// OMP_NUM_THREADS (set by launch/mpirun.sh and slurm/*.sbatch), else the node's cores divided
// among the ranks the launcher put on it.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace electra::cli {

// Ranks on this node, from the launcher (1 when unknown).
inline int ranks_on_this_node() {
  for (const char* name :
       {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    if (const char* value = std::getenv(name)) return std::max(1, std::atoi(value));
  }
  return 1;
}

inline int threads_per_rank(int requested) {
  if (requested > 0) return requested;
  if (const char* omp = std::getenv("OMP_NUM_THREADS"); omp && std::atoi(omp) > 0) {
    return std::atoi(omp);
  }
  return std::max(1, int(std::thread::hardware_concurrency()) / ranks_on_this_node());
}

}  // namespace electra::cli
