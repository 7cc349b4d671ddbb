// Two writers of one output started together, 20 times each for prepare and for pretrain: one
// wins, the other fails at once with the lock message naming the winner's pid, and what the
// winner wrote verifies (the corpus with `verify`, the run as finished with its checkpoint).
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace electra {
namespace {

namespace fs = std::filesystem;
using electra::testing::quote;
using electra::testing::run_shell;
using electra::testing::TempDir;

const std::string kElectra = ELECTRA_BINARY;
const std::string kRepo = std::string(ELECTRA_TEST_DATA_DIR) + "/../..";

struct Race {
  int exit_a = -1, exit_b = -1;
  std::string output_a, output_b;
};

// Starts COMMAND_A and COMMAND_B at the same moment (both wait on one signal file) and waits for
// both; each has 120 s.
Race race(const std::string& dir, const std::string& command_a, const std::string& command_b) {
  const std::string go = dir + "/go";
  const auto starter = [&](const std::string& command, const std::string& name) {
    return "(while [ ! -e " + quote(go) + " ]; do :; done; timeout 120 " + command + " > " +
           quote(dir + "/" + name + ".out") + " 2>&1; echo $? > " +
           quote(dir + "/" + name + ".rc") + ") & ";
  };
  const auto result =
      run_shell("rm -f " + quote(go) + "; " + starter(command_a, "a") + starter(command_b, "b") +
                "sleep 0.3; touch " + quote(go) + "; wait");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  Race outcome;
  outcome.exit_a = std::stoi(testing::read_file(dir + "/a.rc"));
  outcome.exit_b = std::stoi(testing::read_file(dir + "/b.rc"));
  outcome.output_a = testing::read_file(dir + "/a.out");
  outcome.output_b = testing::read_file(dir + "/b.out");
  return outcome;
}

// One of the two exited 0, the other 1 with "--out OUT: being written by process PID".
::testing::AssertionResult one_won(const Race& race, const std::string& out) {
  const bool a_won = race.exit_a == 0, b_won = race.exit_b == 0;
  if (a_won == b_won) {
    return ::testing::AssertionFailure()
           << "exits " << race.exit_a << " and " << race.exit_b << ":\n"
           << race.output_a << "\n---\n"
           << race.output_b;
  }
  const std::string& loser = a_won ? race.output_b : race.output_a;
  const int loser_exit = a_won ? race.exit_b : race.exit_a;
  if (loser_exit != 1 ||
      loser.find("--out " + out + ": being written by process ") == std::string::npos) {
    return ::testing::AssertionFailure()
           << "the loser (exit " << loser_exit << ") did not name the lock:\n"
           << loser;
  }
  return ::testing::AssertionSuccess();
}

TEST(ConcurrentWriters, TwoPreparesIntoOneFolderOneWinsAndTheCorpusVerifies) {
  TempDir dir;
  const std::string text = dir / "text.txt";
  // 26 MB (the two sample books, 8 times): a prepare of a second or two, so that the second
  // process (MPI's start-up alone varies by a few tenths) starts while the first still runs.
  ASSERT_EQ(
      run_shell("for i in 1 2 3 4 5 6 7 8; do cat " + quote(kRepo + "/data/sample/mobydick.txt") +
                " " + quote(kRepo + "/data/sample/sotu_recent.txt") + "; done > " + quote(text))
          .exit_code,
      0);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string out = dir / ("corpus" + std::to_string(round));
    const std::string prepare =
        kElectra + " prepare --input " + quote(text) + " --out " + quote(out) + " --seq-len 64";
    const Race outcome = race(dir.path().string(), prepare, prepare + " --seed 7");
    EXPECT_TRUE(one_won(outcome, out));
    const auto verified = run_shell(kElectra + " verify --data " + quote(out));
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
    EXPECT_FALSE(fs::exists(out + "/.electra.lock"));
  }
}

TEST(ConcurrentWriters, TwoPretrainsIntoOneRunOneWinsAndTheRunIsComplete) {
  TempDir dir;
  const std::string text = dir / "text.txt", data = dir / "data";
  ASSERT_EQ(run_shell("head -c 60000 " + quote(kRepo + "/data/sample/mobydick.txt") + " > " +
                      quote(text) + " && " + kElectra + " prepare --input " + quote(text) +
                      " --out " + quote(data) + " --seq-len 64")
                .exit_code,
            0);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string run = dir / ("run" + std::to_string(round));
    // 40 steps (a few seconds): the second starts while the first holds the lock even when
    // the machine is loaded and MPI's start-up takes a second.
    const std::string pretrain = "env OMP_NUM_THREADS=1 " + kElectra + " pretrain --data " +
                                 quote(data) + " --out " + quote(run) +
                                 " --model tiny --batch-size 4 --train-steps 40 --eval-every 0 "
                                 "--save-every 40 --threads 1";
    const Race outcome = race(dir.path().string(), pretrain, pretrain);
    EXPECT_TRUE(one_won(outcome, run));
    EXPECT_TRUE(fs::exists(run + "/FINISHED"));
    EXPECT_TRUE(fs::exists(run + "/checkpoints/step-00000040/COMPLETE"));
    // The run reads back as finished: a third call has nothing left to do.
    const auto again = run_shell(pretrain);
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("already at step 40"), std::string::npos) << again.output;
  }
}

}  // namespace
}  // namespace electra
