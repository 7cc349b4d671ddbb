// electra prepare under mpirun: the ranks split the files and write their own shards, rank 0
// writes the manifest; the examples made are the same as with one process; a failing rank is
// reported with its rank and no rank hangs.
#include <gtest/gtest.h>

#include <algorithm>

#include "data/manifest.h"
#include "data/shard_reader.h"
#include "shard_rows.h"
#include "test_util.h"

namespace electra {
namespace {

using electra::testing::run_shell;
using electra::testing::TempDir;

const std::string kElectra = ELECTRA_BINARY;
const std::string kMpirun = std::string(ELECTRA_MPIRUN) + " -np ";

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

// Every example of a prepared folder, sorted.
std::vector<std::string> examples_of(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> shards;
  for (const auto& shard : data::Manifest::load(dir).shards) {
    shards.emplace_back(dir + "/" + shard.file, shard.split);
  }
  return testing::example_keys(shards);
}

TEST(PrepareUnderMpirun, SameExamplesWithOneTwoAndFourRanks) {
  TempDir dir;
  // Six input files so that every rank has work.
  const std::string text =
      testing::read_file(std::string(ELECTRA_DATA_DIR) + "/sample/mobydick.txt");
  for (int i = 0; i < 6; ++i) {
    testing::write_file(dir / ("part" + std::to_string(i) + ".txt"),
                        text.substr(size_t(i) * text.size() / 6, text.size() / 6));
  }
  const std::string inputs = quote(dir / "part0.txt") + " " + quote(dir / "part1.txt") + " " +
                             quote(dir / "part2.txt") + " " + quote(dir / "part3.txt") + " " +
                             quote(dir / "part4.txt") + " " + quote(dir / "part5.txt");
  const std::string args =
      " prepare --input " + inputs + " --seq-len 64 --shards 4 --val-fraction 0.05 --out ";
  auto one = run_shell(kElectra + args + quote(dir / "one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  auto two = run_shell("timeout 300 " + kMpirun + "2 " + kElectra + args + quote(dir / "two"));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  auto four = run_shell("timeout 300 " + kMpirun + "4 " + kElectra + args + quote(dir / "four"));
  ASSERT_EQ(four.exit_code, 0) << four.output;

  const auto reference = examples_of(dir / "one");
  EXPECT_GT(reference.size(), 1000u);
  EXPECT_EQ(examples_of(dir / "two"), reference);
  EXPECT_EQ(examples_of(dir / "four"), reference);
  const auto manifest = data::Manifest::load(dir / "four");
  EXPECT_EQ(manifest.preparation["ranks"], 4);
  EXPECT_EQ(manifest.split("train").size(), 4u);  // one train shard per rank
  EXPECT_EQ(manifest.split("validation").size(), 4u);
}

TEST(PrepareUnderMpirun, AFailingRankIsNamedAndNoRankHangs) {
  TempDir dir;
  testing::write_file(dir / "good.txt", "A fine sentence.\nAnother one.\n");
  testing::write_file(dir / "bad.txt", std::string(5000, 'x') + "\n");
  auto result = run_shell("timeout 120 " + kMpirun + "2 " + kElectra + " prepare --input " +
                          quote(dir / "good.txt") + " " + quote(dir / "bad.txt") +
                          " --max-line-bytes 1000 --out " + quote(dir / "out"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.exit_code, 124) << "timed out: a rank waited forever";
  EXPECT_TRUE(result.output.find("rank 0: ") != std::string::npos ||
              result.output.find("rank 1: ") != std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("line longer than 1000 bytes"), std::string::npos) << result.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out/manifest.json"));
  if (std::filesystem::exists(dir / "out")) {  // gone when the lock that made it left it empty
    for (const auto& entry : std::filesystem::directory_iterator(dir / "out")) {
      ADD_FAILURE() << "an incomplete corpus left " << entry.path();  // the good rank's shard too
    }
  }
}

}  // namespace
}  // namespace electra
