// How a sweep hands its cells to the ranks: largest first, each to the first rank free.
#include "app/finetune/sweep_schedule.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "test_util.h"

namespace electra::finetune {
namespace {

namespace fs = std::filesystem;

TEST(SweepSchedule, LargestFirstTiesInTheTablesOrder) {
  EXPECT_EQ(largest_first({1, 5, 0, 5, 2}), (std::vector<size_t>{1, 3, 4, 0, 2}));
  EXPECT_TRUE(largest_first({}).empty());
}

TEST(SweepSchedule, ACellIsClaimedOnceAndTheFolderStartsEmpty) {
  testing::TempDir dir;
  reset_cell_claims(dir.path());
  check_cell_claims_visible(dir.path());
  EXPECT_TRUE(claim_cell(dir.path(), 3));
  EXPECT_FALSE(claim_cell(dir.path(), 3));
  EXPECT_TRUE(claim_cell(dir.path(), 0));
  reset_cell_claims(dir.path());  // a killed sweep's claims do not hold the next one back
  EXPECT_TRUE(claim_cell(dir.path(), 3));
  remove_cell_claims(dir.path());
  EXPECT_FALSE(fs::exists(cell_claims_dir(dir.path())));
  try {
    check_cell_claims_visible(dir.path());
    FAIL() << "an absent claims folder was taken as visible";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a filesystem every rank shares"), std::string::npos)
        << e.what();
  }
  try {
    claim_cell(dir.path(), 1);
    FAIL() << "a claim without the folder succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(".sweep-claims/1: cannot claim the cell"),
              std::string::npos)
        << e.what();
  }
}

// Two "ranks" (threads) working through cells whose costs differ twentyfold, in the table's
// order big, small, big, small, small, small: dealt round-robin, one rank would get both big
// cells (about 420 ms against 30 ms). Claimed largest first as each becomes free, each rank
// runs one big cell, every cell runs once, and both end at about the same time.
TEST(SweepSchedule, CellsOfVeryDifferentSizesEndTheRanksTogether) {
  testing::TempDir dir;
  reset_cell_claims(dir.path());
  const std::vector<double> cost_ms{200, 10, 200, 10, 10, 10};
  const std::vector<size_t> order = largest_first(cost_ms);
  std::vector<std::atomic<int>> runs(cost_ms.size());
  std::atomic<int> ready{0};
  std::vector<double> busy_ms(2, 0);
  std::vector<std::vector<size_t>> ran(2);
  const auto rank = [&](int r) {
    ++ready;
    while (ready < 2) std::this_thread::yield();  // both ranks start together, as mpirun's do
    for (size_t cell : order) {
      if (!claim_cell(dir.path(), cell)) continue;
      ++runs[cell];
      ran[r].push_back(cell);
      std::this_thread::sleep_for(std::chrono::milliseconds(int(cost_ms[cell])));
      busy_ms[r] += cost_ms[cell];
    }
  };
  std::thread first(rank, 0), second(rank, 1);
  first.join(), second.join();
  for (size_t cell = 0; cell < cost_ms.size(); ++cell) EXPECT_EQ(runs[cell], 1) << "cell " << cell;
  for (int r = 0; r < 2; ++r) {
    const auto big = std::count_if(ran[r].begin(), ran[r].end(),
                                   [&](size_t cell) { return cost_ms[cell] > 100; });
    EXPECT_EQ(big, 1) << "rank " << r;
    EXPECT_LE(busy_ms[r], 240) << "rank " << r;  // round-robin: 410 on one rank
  }
}

}  // namespace
}  // namespace electra::finetune
