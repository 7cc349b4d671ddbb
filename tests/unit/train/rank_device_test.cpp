// Which GPU a rank takes (app/train/rank_device.h): its local rank, and a clear error naming both
// counts and --device when a node has more ranks than GPUs (NCCL cannot put two ranks on one).
#include <gtest/gtest.h>

#include "app/train/rank_device.h"

namespace electra::train {
namespace {

TEST(RankDevice, EachRankTakesTheGpuOfItsLocalRank) {
  EXPECT_EQ(gpu_of_rank(0, 4, 4, false), 0);
  EXPECT_EQ(gpu_of_rank(3, 4, 4, false), 3);
  EXPECT_EQ(gpu_of_rank(1, 2, 8, false), 1);
  // Sweeps' cells train alone: ranks may share the GPUs, in turn.
  EXPECT_EQ(gpu_of_rank(3, 4, 2, true), 1);
}

TEST(RankDevice, MoreRanksThanGpusIsRefusedNamingBothCountsAndTheOption) {
  try {
    gpu_of_rank(1, 2, 1, false);
    FAIL() << "two ranks on one GPU were accepted";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("2 ranks on this node but 1 GPU(s)"), std::string::npos) << message;
    EXPECT_NE(message.find("--device cpu"), std::string::npos) << message;
  }
  EXPECT_THROW(gpu_of_rank(0, 1, 0, true), std::runtime_error);
}

TEST(RankDevice, AnUnknownChoiceIsRefusedNamingTheOption) {
  EXPECT_NO_THROW(check_device_choice("auto"));
  EXPECT_NO_THROW(check_device_choice("cpu"));
  EXPECT_NO_THROW(check_device_choice("cuda"));
  EXPECT_THROW(check_device_choice("gpu"), std::invalid_argument);
}

}  // namespace
}  // namespace electra::train
