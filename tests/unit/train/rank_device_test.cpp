// Which GPU a rank takes (app/train/rank_device.h): its local rank modulo the GPUs it sees — its
// local rank where every rank sees the node's GPUs, its one GPU where the launcher binds one to
// each rank — and a clear error naming the ranks, the counts and --device only when two ranks of a
// node really took the same GPU (NCCL cannot put two ranks on one).
#include <gtest/gtest.h>

#include "app/train/rank_device.h"

namespace electra::train {
namespace {

// The GPUs the ranks of `hosts` nodes take, `per_node` ranks each, when each rank sees `visible`
// GPUs: the node's first `visible` (`bound` false: every rank sees the same ones) or its own
// (`bound`: srun --gpus-per-task, --gpu-bind, a CUDA_VISIBLE_DEVICES per rank).
std::vector<RankGpu> ranks_taking(int hosts, int per_node, int visible, bool bound) {
  std::vector<RankGpu> ranks;
  for (int host = 0; host < hosts; ++host) {
    for (int local = 0; local < per_node; ++local) {
      const int first = bound ? local * visible : 0;  // the node's GPUs this rank sees
      const int physical = first + gpu_of_rank(local, visible);
      ranks.push_back(
          {"node" + std::to_string(host), "GPU-" + std::to_string(physical), visible, per_node});
    }
  }
  return ranks;
}

TEST(RankDevice, EachRankTakesItsLocalRankModuloTheGpusItSees) {
  EXPECT_EQ(gpu_of_rank(0, 4), 0);
  EXPECT_EQ(gpu_of_rank(3, 4), 3);
  EXPECT_EQ(gpu_of_rank(1, 8), 1);
  EXPECT_EQ(gpu_of_rank(7, 1), 0);  // bound: its one GPU
  EXPECT_EQ(gpu_of_rank(3, 2), 1);
  EXPECT_THROW(gpu_of_rank(0, 0), std::runtime_error);
}

TEST(RankDevice, RanksSeeingEveryGpuOfTheirNodeTakeOneEach) {
  EXPECT_EQ(shared_gpu_error(ranks_taking(2, 8, 8, false)), "");
  EXPECT_EQ(shared_gpu_error(ranks_taking(1, 2, 8, false)), "");
}

TEST(RankDevice, ALauncherThatBindsOneGpuToEachRankIsAccepted) {
  // srun --gpus-per-task=1 on nodes of 8 GPUs: each of the 8 ranks of a node sees "1 GPU".
  EXPECT_EQ(shared_gpu_error(ranks_taking(2, 8, 1, true)), "");
  // --gpus-per-task=2: each rank sees its own pair and takes the first or the second.
  EXPECT_EQ(shared_gpu_error(ranks_taking(1, 4, 2, true)), "");
  // The same GPU names on two hosts are two GPUs.
  std::vector<RankGpu> two_hosts = {{"a", "GPU-0", 1, 1}, {"b", "GPU-0", 1, 1}};
  EXPECT_EQ(shared_gpu_error(two_hosts), "");
}

TEST(RankDevice, RanksThatReallyShareAGpuAreRefusedNamingThemTheCountsAndTheOption) {
  // Two ranks on a node with one GPU, nothing bound.
  std::string message = shared_gpu_error(ranks_taking(1, 2, 1, false));
  EXPECT_NE(message.find("ranks 0 and 1 would share one GPU (GPU-0) on node0"), std::string::npos)
      << message;
  EXPECT_NE(message.find("2 ranks on this node, each seeing 1 GPU(s)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("--device cpu"), std::string::npos) << message;
  EXPECT_NE(message.find("--gpus-per-task=1"), std::string::npos) << message;
  // 8 ranks seeing the node's 4 GPUs: ranks 0 and 4 would take GPU 0 (on the second node too).
  message = shared_gpu_error(ranks_taking(2, 8, 4, false));
  EXPECT_NE(message.find("ranks 0 and 4 would share one GPU (GPU-0) on node0"), std::string::npos)
      << message;
  EXPECT_NE(message.find("8 ranks on this node, each seeing 4 GPU(s)"), std::string::npos)
      << message;
}

TEST(RankDevice, AnUnknownChoiceIsRefusedNamingTheOption) {
  EXPECT_NO_THROW(check_device_choice("auto"));
  EXPECT_NO_THROW(check_device_choice("cpu"));
  EXPECT_NO_THROW(check_device_choice("cuda"));
  EXPECT_THROW(check_device_choice("gpu"), std::invalid_argument);
}

}  // namespace
}  // namespace electra::train
