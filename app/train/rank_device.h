// The device of a rank (DESIGN.md section 5), chosen by --device: `auto` (a GPU when CUDA is
// present, else the CPU), `cpu`, or `cuda` (refused without CUDA). On GPUs rank `local_rank` of a
// node takes GPU local_rank; a node with more ranks than GPUs is refused, naming both counts and
// the option, before anything starts NCCL (which cannot put two ranks on one GPU). Pretraining,
// fine-tuning and sweeps use it.
#pragma once

#include <torch/cuda.h>
#include <torch/types.h>

#include <iostream>
#include <stdexcept>
#include <string>

#include "app/train/device_choice.h"
#include "dist/communicator.h"

namespace electra::train {

// The GPU index of rank `local_rank` of the `local_ranks` on a node with `gpus` GPUs: its local
// rank, or (`ranks_share_gpus`: sweeps, whose cells train alone without NCCL) that modulo the
// GPUs. Throws std::runtime_error naming both counts and the option when the ranks cannot each
// have their own GPU.
inline int gpu_of_rank(int local_rank, int local_ranks, int gpus, bool ranks_share_gpus) {
  if (gpus < 1) {
    throw std::runtime_error("--device cuda, but no CUDA device is usable here; use --device cpu");
  }
  if (local_ranks > gpus && !ranks_share_gpus) {
    throw std::runtime_error(
        std::to_string(local_ranks) + " ranks on this node but " + std::to_string(gpus) +
        " GPU(s): one rank per GPU (NCCL cannot share one); start " + std::to_string(gpus) +
        " rank(s) per node, or pass --device cpu to train on the CPU");
  }
  return local_rank % gpus;
}

inline torch::Device device_for(const dist::Communicator& communicator,
                                const std::string& choice = "auto", bool ranks_share_gpus = false) {
  check_device_choice(choice);
  const bool cuda = torch::cuda::is_available();
#ifdef ELECTRA_WITH_CUDA
  static bool said_cpu = false;  // once a process
  if (choice == "auto" && !cuda && !said_cpu && communicator.is_root()) {
    said_cpu = true;
    std::cout << "device: no CUDA device visible to this CUDA build; using the CPU (--device cpu "
                 "says so quietly)\n";
  }
#endif
  if (choice == "cpu" || (choice == "auto" && !cuda)) return torch::kCPU;
  if (!cuda) {
    throw std::runtime_error(
        "--device cuda, but no CUDA device is usable here (a CPU-only build, or no GPU "
        "visible); use --device cpu or auto");
  }
  const int gpu = gpu_of_rank(communicator.local_rank(), communicator.local_size(),
                              int(torch::cuda::device_count()), ranks_share_gpus);
  return torch::Device(torch::kCUDA, c10::DeviceIndex(gpu));
}

}  // namespace electra::train
