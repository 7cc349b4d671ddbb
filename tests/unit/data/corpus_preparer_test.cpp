#include <gtest/gtest.h>

#include <algorithm>

#include "data/corpus_preparer.h"
#include "data/shard_reader.h"
#include "shard_rows.h"
#include "test_util.h"

namespace electra::data {
namespace {

using electra::testing::TempDir;

std::vector<std::string> all_rows(const std::string& dir,
                                  const std::vector<ManifestShard>& shards) {
  std::vector<std::pair<std::string, std::string>> paths;
  for (const auto& shard : shards) paths.emplace_back(dir + "/" + shard.file, shard.split);
  return electra::testing::example_keys(paths);
}

TEST(CorpusPreparer, ExamplesDoNotDependOnTheNumberOfRanks) {
  const std::string sample = std::string(ELECTRA_DATA_DIR) + "/sample";
  auto files = list_input_files({sample});
  auto vocab = std::make_shared<const Vocabulary>(
      Vocabulary::load(std::string(ELECTRA_DATA_DIR) + "/vocab/bert-base-uncased-vocab.txt"));
  WordPieceTokenizer tokenizer(vocab, true);
  PrepareOptions options;
  options.seq_len = 64;
  options.total_train_shards = 3;
  options.val_fraction = 0.05;

  TempDir one, two;
  options.out_dir = one.path().string();
  auto single = prepare_text_files(files, tokenizer, options, 0, 1, nullptr);
  options.out_dir = two.path().string();
  std::vector<ManifestShard> split_shards;
  const auto assigned = assign_files_to_ranks(files, 2);
  for (int rank = 0; rank < 2; ++rank) {
    auto part = prepare_text_files(assigned[size_t(rank)], tokenizer, options, rank, 2, nullptr);
    split_shards.insert(split_shards.end(), part.shards.begin(), part.shards.end());
  }
  const auto rows_one = all_rows(one.path().string(), single.shards),
             rows_two = all_rows(two.path().string(), split_shards);
  EXPECT_GT(rows_one.size(), 1000u);
  EXPECT_EQ(rows_one, rows_two);
  const long long validation = std::count_if(rows_one.begin(), rows_one.end(), [](const auto& r) {
    return r.compare(0, 11, "validation:") == 0;
  });
  EXPECT_NEAR(double(validation) / double(rows_one.size()), 0.05, 0.02);
}

TEST(CorpusPreparer, AssignsEveryFileToOneRankBalancingBytes) {
  std::vector<InputFile> files;
  for (int i = 0; i < 7; ++i) files.push_back({"f" + std::to_string(i), i, 100 + i * 10});
  const auto assigned = assign_files_to_ranks(files, 3);
  std::vector<long long> seen;
  for (const auto& rank_files : assigned) {
    EXPECT_FALSE(rank_files.empty());
    for (const auto& file : rank_files) seen.push_back(file.index);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<long long>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(CorpusPreparer, RestoresNvidiaShardsOriginalTokens) {
  const std::string nvidia = std::string(ELECTRA_TEST_DATA_DIR) + "/nvidia_bert_moby_128.hdf5";
  auto vocab =
      Vocabulary::load(std::string(ELECTRA_DATA_DIR) + "/vocab/bert-base-uncased-vocab.txt");
  TempDir out;
  PrepareOptions options;
  options.out_dir = out.path().string();
  options.seq_len = 128;
  auto output =
      convert_nvidia_shards(list_input_files({nvidia}), vocab, true, options, 0, 1, nullptr);
  ASSERT_EQ(output.shards.size(), 1u);
  ShardReader source(nvidia, ShardReader::Layout::kNvidiaBert);
  ShardReader converted(out / output.shards[0].file);
  converted.check_vocabulary(vocab, true);
  ASSERT_EQ(converted.num_rows(), source.num_rows());
  long long predictions = 0, masked_before = 0;
  const auto positions =
      source.read_int_matrix("masked_lm_positions", 0, source.num_rows(), &predictions);
  const auto originals =
      source.read_int_matrix("masked_lm_ids", 0, source.num_rows(), &predictions);
  for (long long r = 0; r < source.num_rows(); ++r) {
    Example before = source.read_row(r), after = converted.read_row(r);
    masked_before +=
        std::count(before.input_ids.begin(), before.input_ids.end(), vocab.special().mask);
    EXPECT_EQ(std::count(after.input_ids.begin(), after.input_ids.end(), vocab.special().mask), 0)
        << "row " << r;
    for (long long j = 0; j < predictions; ++j) {
      const int32_t position = positions[size_t(r * predictions + j)];
      if (position == 0) break;
      before.input_ids[size_t(position)] = originals[size_t(r * predictions + j)];
    }
    EXPECT_EQ(after, before) << "row " << r;  // the input with the masked positions restored
  }
  EXPECT_GT(masked_before, 1000);
}

}  // namespace
}  // namespace electra::data
