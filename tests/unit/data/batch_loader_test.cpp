#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "data/batch_loader.h"
#include "test_util.h"
#include "unit/data/numbered_corpus.h"

namespace electra::data {
namespace {

std::vector<long long> epoch_rows(BatchLoader& loader, long long epoch, long long first = 0) {
  loader.start_epoch(epoch, first);
  std::vector<long long> ids;
  RowBatch batch;
  while (loader.next(batch)) {
    for (long long r = 0; r < batch.rows; ++r) ids.push_back(row_id(batch, r));
  }
  return ids;
}

TEST(BatchLoader, AnEpochVisitsRowsOnceInASeededOrder) {
  testing::TempDir dir;
  write_corpus(dir.path().string());
  BatchLoaderOptions options;
  options.batch_size = 32, options.block_rows = 50, options.seed = 9;
  BatchLoader loader(dir.path().string(), vocab(), true, options);
  EXPECT_EQ(loader.batches_per_epoch(), 470 / 32);
  const auto first = epoch_rows(loader, 0);
  EXPECT_EQ(first.size(), size_t(14 * 32));
  EXPECT_EQ(std::set<long long>(first.begin(), first.end()).size(), first.size());  // no repeats
  EXPECT_EQ(epoch_rows(loader, 0), first);  // same seed and epoch: same order
  EXPECT_NE(epoch_rows(loader, 1), first);  // another epoch: another order
}

TEST(BatchLoader, RanksGetDisjointRowsAndTheSameNumberOfBatches) {
  testing::TempDir dir;
  write_corpus(dir.path().string());
  std::vector<std::vector<long long>> parts;
  for (int rank = 0; rank < 2; ++rank) {
    BatchLoaderOptions options;
    options.batch_size = 16, options.block_rows = 40, options.seed = 3, options.rank = rank,
    options.world = 2;
    BatchLoader loader(dir.path().string(), vocab(), true, options);
    parts.push_back(epoch_rows(loader, 2));
  }
  EXPECT_EQ(parts[0].size(), parts[1].size());
  std::set<long long> zero(parts[0].begin(), parts[0].end());
  for (long long id : parts[1]) EXPECT_FALSE(zero.count(id)) << id;
}

TEST(BatchLoader, TheGlobalBatchDoesNotDependOnTheNumberOfRanks) {
  testing::TempDir dir;
  write_corpus(dir.path().string());
  BatchLoaderOptions one;
  one.batch_size = 32, one.block_rows = 50, one.seed = 6;
  BatchLoader whole(dir.path().string(), vocab(), true, one);
  const auto expected = epoch_rows(whole, 3);
  std::vector<std::vector<long long>> parts;
  for (int rank = 0; rank < 2; ++rank) {
    BatchLoaderOptions half = one;
    half.batch_size = 16, half.rank = rank, half.world = 2;
    BatchLoader loader(dir.path().string(), vocab(), true, half);
    EXPECT_EQ(loader.batches_per_epoch(), whole.batches_per_epoch());
    parts.push_back(epoch_rows(loader, 3));
  }
  // Global batch k: rank 0's 16 rows, then rank 1's.
  std::vector<long long> joined;
  for (size_t k = 0; k * 16 < parts[0].size(); ++k) {
    for (int rank = 0; rank < 2; ++rank) {
      joined.insert(joined.end(), parts[size_t(rank)].begin() + long(k * 16),
                    parts[size_t(rank)].begin() + long(k * 16 + 16));
    }
  }
  EXPECT_EQ(joined, expected);
}

// The rows of global batches from `ranks` loaders, rank slices joined in rank order.
std::vector<long long> joined_epoch(const std::string& dir, int ranks, long long batch_size,
                                    long long epoch, long long first_row) {
  std::vector<std::vector<long long>> parts;
  for (int rank = 0; rank < ranks; ++rank) {
    BatchLoaderOptions options;
    options.batch_size = batch_size, options.block_rows = 50, options.seed = 6;
    options.rank = rank, options.world = ranks;
    BatchLoader loader(dir, vocab(), true, options);
    parts.push_back(epoch_rows(loader, epoch, first_row));
    EXPECT_EQ(parts.back().size(), parts.front().size()) << "rank " << rank;
  }
  std::vector<long long> joined;
  for (size_t k = 0; k * size_t(batch_size) < parts[0].size(); ++k) {
    for (const auto& part : parts) {
      joined.insert(joined.end(), part.begin() + long(k * size_t(batch_size)),
                    part.begin() + long((k + 1) * size_t(batch_size)));
    }
  }
  return joined;
}

TEST(BatchLoader, OneShardServesMoreRanksThanShards) {
  testing::TempDir dir;
  write_corpus(dir.path().string(), {130});
  const auto whole = joined_epoch(dir.path().string(), 1, 32, 0, 0);  // 4 batches of 32
  ASSERT_EQ(whole.size(), 128u);
  EXPECT_EQ(joined_epoch(dir.path().string(), 4, 8, 0, 0), whole);  // 4 ranks x 8, one shard
  EXPECT_EQ(std::set<long long>(whole.begin(), whole.end()).size(), whole.size());
}

TEST(BatchLoader, AResumedEpochContinuesAtItsRowUnderAnotherWorldSizeAndBatch) {
  testing::TempDir dir;
  write_corpus(dir.path().string(), {300, 20, 150});  // uneven shards
  const std::string d = dir.path().string();
  const auto stream = joined_epoch(d, 1, 1, 4, 0);  // the whole epoch's row stream
  ASSERT_EQ(stream.size(), 470u);
  // 3 ranks x 16 after 96 rows (3 batches of 32 on 1 rank): rows [96, 96 + 48 k).
  const auto resumed = joined_epoch(d, 3, 16, 4, 96);
  EXPECT_EQ(resumed.size(), size_t((470 - 96) / 48 * 48));
  EXPECT_TRUE(std::equal(resumed.begin(), resumed.end(), stream.begin() + 96));
  // At a row no batch boundary of the new size divides: 2 ranks x 5 from row 37.
  const auto odd = joined_epoch(d, 2, 5, 4, 37);
  EXPECT_EQ(odd.size(), size_t((470 - 37) / 10 * 10));
  EXPECT_TRUE(std::equal(odd.begin(), odd.end(), stream.begin() + 37));
}

TEST(BatchLoader, EvalBatchesSplitTheRowsInOrderWithASmallerLastBatch) {
  testing::TempDir dir;
  write_corpus(dir.path().string());
  std::vector<long long> all;
  for (int rank = 0; rank < 3; ++rank) {
    EvalBatches batches(dir.path().string(), vocab(), true, "train", rank, 3, 64, 400);
    EXPECT_EQ(batches.total_rows(), 400);
    RowBatch batch;
    long long first = -1;
    while (batches.next(batch, first)) {
      EXPECT_LE(batch.rows, 64);
      for (long long r = 0; r < batch.rows; ++r) {
        EXPECT_EQ(row_id(batch, r), first + r);
        all.push_back(row_id(batch, r));
      }
    }
  }
  ASSERT_EQ(all.size(), 400u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], (long long)i);
}

TEST(BatchLoader, ResumesMidEpochWithTheSameBatches) {
  testing::TempDir dir;
  write_corpus(dir.path().string());
  BatchLoaderOptions options;
  options.batch_size = 24, options.block_rows = 50, options.seed = 4;
  BatchLoader loader(dir.path().string(), vocab(), true, options);
  const auto whole = epoch_rows(loader, 5);
  const auto resumed = epoch_rows(loader, 5, 7 * 24);  // after 7 batches
  ASSERT_EQ(resumed.size(), whole.size() - 7 * 24);
  EXPECT_TRUE(std::equal(resumed.begin(), resumed.end(), whole.begin() + 7 * 24));
}

TEST(BatchLoader, RefusesTooFewRowsForTheBatch) {
  testing::TempDir dir;
  write_corpus(dir.path().string());
  BatchLoaderOptions options;
  options.batch_size = 200, options.world = 4, options.block_rows = 50;
  EXPECT_THROW(BatchLoader(dir.path().string(), vocab(), true, options), std::runtime_error);
}

}  // namespace
}  // namespace electra::data
