// The generator's training strategies end to end (`electra pretrain --strategy`): a short
// adversarial run on 2 ranks whose generator switches from MLM to REINFORCE after its warm-up, logs
// its reward and baseline, and resumes across a checkpoint exactly as the uninterrupted run.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/train/metrics_log.h"
#include "test_util.h"

namespace electra {
namespace {

using electra::testing::fails_with;
using electra::testing::quote;
using electra::testing::run_shell;
using electra::testing::TempDir;

const std::string kElectra = ELECTRA_BINARY;
const std::string kMpirun = ELECTRA_MPIRUN;
const std::string kTiny = std::string(ELECTRA_CONFIG_DIR) + "/tiny.ini";

class Strategy : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto prepared =
        run_shell(kElectra + " prepare --input " +
                  quote(std::string(ELECTRA_DATA_DIR) + "/sample/mobydick.txt") + " --out " +
                  quote(*dir_ / "data") + " --seq-len 64 --shards 2 --val-fraction 0.05");
    ASSERT_EQ(prepared.exit_code, 0) << prepared.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string path(const std::string& name) { return *dir_ / name; }
  static std::string pretrain(const std::string& out, const std::string& strategy) {
    return kMpirun + " -np 2 -x OMP_NUM_THREADS=1 " + kElectra + " pretrain --config " +
           quote(kTiny) + " --data " + quote(path("data")) + " --out " + quote(out) +
           " --strategy " + strategy +
           " --train-steps 12 --warmup-steps 2 --batch-size 8 --log-every 1 --eval-every 0 "
           "--save-every 6 --eval-examples 32 ";
  }
  static std::vector<nlohmann::json> train_records(const std::string& run) {
    std::vector<nlohmann::json> records;
    for (const auto& record : train::read_metrics(run + "/metrics.jsonl")) {
      if (record["kind"] == "train") records.push_back(record);
    }
    return records;
  }
  static TempDir* dir_;
};
TempDir* Strategy::dir_ = nullptr;

TEST_F(Strategy, AdversarialTrainsByReinforceAfterItsWarmupAndResumesExactly) {
  const std::string adversarial =
      "adversarial --adversarial-mlm-warmup 3 --adversarial-entropy 0.01";
  const std::string whole = path("whole");
  const auto trained = run_shell(pretrain(whole, adversarial));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const auto records = train_records(whole);
  ASSERT_EQ(records.size(), 12u);
  double last_baseline = 0;
  for (const auto& record : records) {
    const long long step = record["step"];
    if (step <= 3) {  // the warm-up: maximum likelihood, no reward
      EXPECT_EQ(record["generator_objective"], "mlm") << record.dump();
      EXPECT_FALSE(record.contains("reward")) << record.dump();
      continue;
    }
    EXPECT_EQ(record["generator_objective"], "reinforce") << record.dump();
    const double reward = record["reward"], baseline = record["reward_baseline"];
    // the reward is a cross-entropy; the baseline moves towards it (decay 0.99) from the first
    EXPECT_GT(reward, 0.0);
    if (step == 4) EXPECT_DOUBLE_EQ(baseline, reward);
    if (step > 4) EXPECT_DOUBLE_EQ(baseline, 0.99 * last_baseline + 0.01 * reward);
    last_baseline = baseline;
    EXPECT_GT(record["generator_entropy"].get<double>(), 0.0);
  }
  const auto complete = testing::read_json(whole + "/checkpoints/step-00000006/COMPLETE");
  EXPECT_EQ(complete["baseline_updates"], 3) << complete.dump();
  EXPECT_EQ(testing::read_json(whole + "/checkpoints/step-00000006/train_config.json")["strategy"],
            "adversarial");

  // Stopped at step 6 and resumed: the baseline comes back with the checkpoint, and every later
  // step equals the uninterrupted run's.
  const std::string halves = path("halves");
  ASSERT_EQ(run_shell(pretrain(halves, adversarial) + "--stop-at 6").exit_code, 0);
  const auto resumed = run_shell(pretrain(halves, adversarial));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed at step 6"), std::string::npos) << resumed.output;
  const auto again = train_records(halves);
  ASSERT_EQ(again.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    for (const char* field : {"loss", "mlm_loss", "disc_loss"}) {
      EXPECT_EQ(again[i][field], records[i][field]) << field << " at step " << i + 1;
    }
    if (records[i].contains("reward")) {
      EXPECT_EQ(again[i]["reward"], records[i]["reward"]) << "step " << i + 1;
      EXPECT_EQ(again[i]["reward_baseline"], records[i]["reward_baseline"]) << "step " << i + 1;
    }
  }
}

TEST_F(Strategy, AnUnknownStrategyIsRefusedNamingTheOption) {
  EXPECT_TRUE(fails_with(
      run_shell(kElectra + " pretrain --config " + quote(kTiny) + " --data " + quote(path("data")) +
                " --out " + quote(path("x")) + " --strategy greedy"),
      2, "--strategy must be joint, two-stage or adversarial"));
}

}  // namespace
}  // namespace electra
