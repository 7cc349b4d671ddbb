// Run under mpirun -np 2 and -np 4: the control-plane collectives of MpiCommunicator.
#include <gtest/gtest.h>

#include "dist/communicator.h"

namespace electra::dist {
namespace {

Communicator& world() {
  static std::unique_ptr<Communicator> communicator = make_world_communicator();
  return *communicator;
}

TEST(MpiCommunicator, RunsUnderMpirunWithSeveralRanks) {
  ASSERT_TRUE(launched_by_mpi()) << "run this test under mpirun";
  EXPECT_GE(world().size(), 2);
  EXPECT_LT(world().rank(), world().size());
  EXPECT_LT(world().local_rank(), world().size());
}

TEST(MpiCommunicator, RanksOnThisOneHostAreItsLocalRanks) {
  // mpirun started every rank here: the node's ranks are the job's, in the same order.
  EXPECT_EQ(world().local_size(), world().size());
  EXPECT_EQ(world().local_rank(), world().rank());
}

TEST(MpiCommunicator, GathersStringsOfEveryRankInOrder) {
  const auto gathered =
      world().gather_to_root(std::string(size_t(world().rank()) + 1, 'a' + char(world().rank())));
  if (world().is_root()) {
    ASSERT_EQ(gathered.size(), size_t(world().size()));
    for (int r = 0; r < world().size(); ++r) {
      EXPECT_EQ(gathered[size_t(r)], std::string(size_t(r) + 1, 'a' + char(r)));
    }
  } else {
    EXPECT_TRUE(gathered.empty());
  }
}

TEST(MpiCommunicator, BroadcastsRootsValue) {
  const std::string mine = world().is_root() ? std::string(100000, 'r') : "other";
  EXPECT_EQ(world().broadcast_from_root(mine), std::string(100000, 'r'));
}

TEST(MpiCommunicator, OneFailingRankMakesEveryRankStop) {
  EXPECT_TRUE(world().all_ok(true));
  EXPECT_FALSE(world().all_ok(world().rank() != world().size() - 1));
  world().barrier();
}

TEST(MpiCommunicator, RankPrefixNamesTheRank) {
  EXPECT_EQ(rank_prefix(world()), "rank " + std::to_string(world().rank()) + ": ");
}

}  // namespace
}  // namespace electra::dist
