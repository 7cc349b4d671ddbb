// How a rank that gives up names the ranks it waited for (dist/peer_watch.h).
#include <gtest/gtest.h>

#include "dist/peer_watch.h"

namespace electra::dist {
namespace {

TEST(DescribeRanks, NamesOneRankWithItsHost) {
  EXPECT_EQ(describe_ranks({1}, {"h1", "h2"}), "rank 1 (h2)");
}

TEST(DescribeRanks, RunsOfConsecutiveRanksOnOneHostShareTheirHost) {
  const std::vector<std::string> hosts = {"n1", "n1", "n2", "n2", "n2", "n2", "n3", "n3", "n3"};
  EXPECT_EQ(describe_ranks({2, 3, 4, 5, 8}, hosts), "ranks 2-5 (n2), 8 (n3)");
  EXPECT_EQ(describe_ranks({1, 2}, hosts), "ranks 1 (n1), 2 (n2)");
  EXPECT_EQ(describe_ranks({6, 8}, hosts), "ranks 6 (n3), 8 (n3)");
}

TEST(DescribeRanks, AnUnknownHostIsAQuestionMark) {
  EXPECT_EQ(describe_ranks({3}, {"h1"}), "rank 3 (?)");
}

}  // namespace
}  // namespace electra::dist
