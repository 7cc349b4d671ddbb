// The device of a rank (DESIGN.md section 5), chosen by --device: `auto` (a GPU when CUDA is
// present, else the CPU), `cpu`, or `cuda` (refused without CUDA). A rank takes device
// local_rank modulo the devices it sees: GPU local_rank where every rank of a node sees all its
// GPUs, and its one GPU where the launcher binds one to each rank (srun --gpus-per-task=1,
// --gpu-bind, a CUDA_VISIBLE_DEVICES per rank). The ranks of a node then compare the GPUs they
// took (by UUID) and refuse, naming the counts and the option, before anything starts NCCL (which
// cannot put two ranks on one GPU) when two of them took the same one. Pretraining, fine-tuning
// and sweeps use it.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "app/train/device_choice.h"
#include "dist/communicator.h"

namespace electra::train {

// The device index rank `local_rank` takes among the `visible_gpus` it sees: local_rank modulo
// them. Throws std::runtime_error naming --device when it sees none.
int gpu_of_rank(int local_rank, int visible_gpus);

// The GPU a rank took, as the node's ranks compare them.
struct RankGpu {
  std::string host;  // the node's host name
  std::string gpu;   // the GPU's UUID
  int visible_gpus = 0;
  int local_ranks = 0;  // ranks on its node
};

// Empty when no two ranks of one host took the same GPU; else the error for the user, naming the
// ranks, the host, the counts and what to do. `ranks`: indexed by rank.
std::string shared_gpu_error(const std::vector<RankGpu>& ranks);

// The device of this rank. `ranks_share_gpus`: sweeps, whose cells train alone without NCCL, may
// put several ranks on one GPU in turn. Every rank of the job calls it together (the ranks
// compare their GPUs) unless `ranks_share_gpus`.
torch::Device device_for(dist::Communicator& communicator, const std::string& choice = "auto",
                         bool ranks_share_gpus = false);

}  // namespace electra::train
