#include "app/train/rank_device.h"

#include <torch/cuda.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "dist/peer_watch.h"

#ifdef ELECTRA_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace electra::train {

namespace {

// The UUID of CUDA device `index` as nvidia-smi prints it ("GPU-" and 32 hex digits in groups).
std::string gpu_uuid(int index) {
#ifdef ELECTRA_WITH_CUDA
  const auto* properties = at::cuda::getDeviceProperties(c10::DeviceIndex(index));
  std::string text = "GPU-";
  for (int i = 0; i < 16; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x",
                  unsigned(static_cast<unsigned char>(properties->uuid.bytes[i])));
    text += hex;
    if (i == 3 || i == 5 || i == 7 || i == 9) text += '-';
  }
  return text;
#else
  return "cuda:" + std::to_string(index);
#endif
}

// What a rank sends rank 0: its visible GPUs, its node's ranks and the GPU it took (the host
// names are the peer watch's, from which the node's ranks were counted too).
std::string encode(const RankGpu& gpu) {
  std::ostringstream text;
  text << gpu.visible_gpus << ' ' << gpu.local_ranks << ' ' << gpu.gpu;
  return text.str();
}

RankGpu decode(const std::string& text, std::string host) {
  RankGpu gpu;
  std::istringstream in(text);
  in >> gpu.visible_gpus >> gpu.local_ranks >> gpu.gpu;
  gpu.host = std::move(host);
  return gpu;
}

}  // namespace

int gpu_of_rank(int local_rank, int visible_gpus) {
  if (visible_gpus < 1) {
    throw std::runtime_error("--device cuda, but no CUDA device is usable here; use --device cpu");
  }
  return local_rank % visible_gpus;
}

std::string shared_gpu_error(const std::vector<RankGpu>& ranks) {
  std::map<std::pair<std::string, std::string>, size_t> first_taker;  // (host, GPU) -> rank
  for (size_t rank = 0; rank < ranks.size(); ++rank) {
    const RankGpu& mine = ranks[rank];
    const auto [taken, fresh] = first_taker.emplace(std::pair{mine.host, mine.gpu}, rank);
    if (fresh) continue;
    const RankGpu& other = ranks[taken->second];
    return "ranks " + std::to_string(taken->second) + " and " + std::to_string(rank) +
           " would share one GPU (" + mine.gpu + ") on " + mine.host + ": " +
           std::to_string(mine.local_ranks) + " ranks on this node, each seeing " +
           std::to_string(std::min(other.visible_gpus, mine.visible_gpus)) +
           " GPU(s) (NCCL cannot put two ranks on one); start one rank per GPU, or bind one GPU "
           "to each rank (srun --gpus-per-task=1), or pass --device cpu to train on the CPU";
  }
  return "";
}

torch::Device device_for(dist::Communicator& communicator, const std::string& choice,
                         bool ranks_share_gpus) {
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
  const int visible = int(torch::cuda::device_count());
  const int gpu = gpu_of_rank(communicator.local_rank(), visible);
  if (!ranks_share_gpus && communicator.size() > 1 && communicator.peer_watch()) {
    const std::vector<std::string> taken = communicator.gather_to_root(
        encode({"", gpu_uuid(gpu), visible, communicator.local_size()}));
    std::string error;
    if (communicator.is_root()) {
      const std::vector<std::string>& hosts = communicator.peer_watch()->hosts();
      std::vector<RankGpu> ranks;
      for (size_t rank = 0; rank < taken.size(); ++rank) {
        ranks.push_back(decode(taken[rank], rank < hosts.size() ? hosts[rank] : "?"));
      }
      error = shared_gpu_error(ranks);
    }
    error = communicator.broadcast_from_root(error);
    if (!error.empty()) throw std::runtime_error(error);
  }
  return torch::Device(torch::kCUDA, c10::DeviceIndex(gpu));
}

}  // namespace electra::train
