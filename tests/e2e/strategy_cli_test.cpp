// The training strategies end to end (`electra pretrain --strategy`) on 2 ranks: an adversarial
// run whose generator switches from MLM to REINFORCE after its warm-up, logs its reward and
// baseline, and resumes across a checkpoint exactly as the uninterrupted run; a two-stage run
// whose generator trains alone, then stays frozen while the discriminator trains from its
// weights, resumed inside the first stage and at the boundary, and exported.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "app/model/safetensors.h"
#include "app/train/metrics_log.h"
#include "test_util.h"

namespace electra {
namespace {

using electra::model::SafetensorsFile;
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
  static std::string pretrain(const std::string& out, const std::string& strategy,
                              int eval_every = 0) {
    return kMpirun + " -np 2 -x OMP_NUM_THREADS=1 " + kElectra + " pretrain --config " +
           quote(kTiny) + " --data " + quote(path("data")) + " --out " + quote(out) +
           " --device cpu --strategy " + strategy +
           " --train-steps 12 --warmup-steps 2 --batch-size 8 --log-every 1 --save-every 6 "
           "--eval-examples 32 --eval-every " +
           std::to_string(eval_every) + " ";
  }
  // `electra export` of RUN's checkpoint at STEP into OUT.
  static testing::CommandResult export_checkpoint(const std::string& run, int step,
                                                  const std::string& out) {
    char checkpoint[32];
    std::snprintf(checkpoint, sizeof checkpoint, "step-%08d", step);
    return run_shell(kElectra + " export --checkpoint " +
                     quote(run + "/checkpoints/" + checkpoint) + " --out " + quote(out));
  }
  static std::vector<nlohmann::json> train_records(const std::string& run) {
    std::vector<nlohmann::json> records;
    for (const auto& record : train::read_metrics(run + "/metrics.jsonl")) {
      if (record["kind"] == "train") records.push_back(record);
    }
    return records;
  }
  // Each train record of AGAIN equals RECORDS' at FIELDS (a resumed run against the whole one).
  static void expect_same_records(const std::vector<nlohmann::json>& again,
                                  const std::vector<nlohmann::json>& records,
                                  const std::vector<const char*>& fields) {
    ASSERT_EQ(again.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      for (const char* field : fields) {
        EXPECT_EQ(again[i].value(field, nlohmann::json()),
                  records[i].value(field, nlohmann::json()))
            << field << " at step " << i + 1;
      }
    }
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

TEST_F(Strategy, TwoStageTrainsTheGeneratorThenFreezesItAndResumesAcrossTheBoundary) {
  const std::string whole = path("two-stage");
  const auto trained = run_shell(pretrain(whole, "two-stage", 3));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  // The generator takes the discriminator's size (tiny: hidden 128 instead of 32), said once.
  EXPECT_NE(trained.output.find("a generator of the discriminator's size (hidden 128, 4 layers, "
                                "2 heads, FFN 512; configured: hidden 32"),
            std::string::npos)
      << trained.output;
  EXPECT_NE(trained.output.find("step 6: the generator is trained and frozen"), std::string::npos);
  const auto model = testing::read_json(whole + "/train_config.json")["model"];
  EXPECT_EQ(model["generator"]["hidden_size"], 128);
  EXPECT_EQ(model["share_embeddings"], false);

  const auto records = train_records(whole);
  ASSERT_EQ(records.size(), 12u);
  for (const auto& record : records) {
    const long long step = record["step"];
    if (step <= 6) {  // the generator alone: MLM is the loss, no discriminator ran
      EXPECT_EQ(record["stage"], "generator") << record.dump();
      EXPECT_FALSE(record.contains("disc_loss")) << record.dump();
      EXPECT_EQ(record["loss"], record["mlm_loss"]) << record.dump();
    } else {  // the discriminator alone: RTD is the loss
      EXPECT_EQ(record["stage"], "discriminator") << record.dump();
      EXPECT_EQ(record["loss"], record["disc_loss"]) << record.dump();
    }
  }
  // Each stage warms up from 0 (--warmup-steps 2) and decays over its own 6 steps.
  EXPECT_EQ(records[0]["lr"], 0.0);
  EXPECT_EQ(records[6]["lr"], 0.0);
  EXPECT_EQ(records[2]["lr"], records[8]["lr"]);

  // Evaluation is deterministic: the frozen generator's MLM loss stops moving at the boundary
  // while the discriminator's goes on changing.
  std::map<long long, nlohmann::json> evals;
  for (const auto& record : train::read_metrics(whole + "/metrics.jsonl")) {
    if (record["kind"] == "eval") evals[record["step"].get<long long>()] = record;
  }
  ASSERT_EQ(evals.size(), 4u);
  EXPECT_EQ(evals[3]["stage"], "generator");
  EXPECT_EQ(evals[9]["stage"], "discriminator");
  EXPECT_NE(evals[3]["mlm_loss"], evals[6]["mlm_loss"]);
  EXPECT_EQ(evals[6]["mlm_loss"], evals[9]["mlm_loss"]);
  EXPECT_EQ(evals[6]["mlm_loss"], evals[12]["mlm_loss"]);
  EXPECT_NE(evals[9]["disc_loss"], evals[12]["disc_loss"]);

  // Exported at the boundary and at the end: the generator's files are the same bytes, the
  // discriminator's are not; the generator exports its own embeddings at its own size.
  for (const char* step : {"6", "12"}) {
    const auto exported =
        export_checkpoint(whole, std::atoi(step), path(std::string("export-") + step));
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
  }
  const auto generator_file = [&](const char* step, const char* network) {
    return testing::read_file(path(std::string("export-") + step) + "/" + network +
                              "/model.safetensors");
  };
  EXPECT_EQ(generator_file("6", "generator"), generator_file("12", "generator"));
  EXPECT_NE(generator_file("6", "discriminator"), generator_file("12", "discriminator"));
  EXPECT_EQ(testing::read_json(path("export-12") + "/generator/config.json")["hidden_size"], 128);

  // Stopped inside the first stage, then at the boundary, then resumed to the end: every record
  // equals the uninterrupted run's.
  const std::string pieces = path("two-stage-pieces");
  ASSERT_EQ(run_shell(pretrain(pieces, "two-stage", 3) + "--stop-at 4").exit_code, 0);
  ASSERT_EQ(run_shell(pretrain(pieces, "two-stage", 3) + "--stop-at 6").exit_code, 0);
  const auto resumed = run_shell(pretrain(pieces, "two-stage", 3));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed at step 6"), std::string::npos) << resumed.output;
  expect_same_records(train_records(pieces), records,
                      {"loss", "mlm_loss", "disc_loss", "stage", "lr"});
}

TEST_F(Strategy, MlmTrainsTheDiscriminatorSizedModelAloneAndItsCheckpointsCarryItsEncoder) {
  const std::string run = path("mlm");
  const auto trained = run_shell(pretrain(run, "mlm", 6));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("--strategy mlm: BERT's masked-language-model objective alone on "
                                "a model of the discriminator's size (hidden 128, 4 layers"),
            std::string::npos)
      << trained.output;
  const auto records = train_records(run);
  ASSERT_EQ(records.size(), 12u);
  for (const auto& record : records) {  // MLM is the loss; no discriminator ran
    EXPECT_FALSE(record.contains("disc_loss")) << record.dump();
    EXPECT_EQ(record["loss"], record["mlm_loss"]) << record.dump();
  }
  std::vector<nlohmann::json> evals;
  for (const auto& record : train::read_metrics(run + "/metrics.jsonl")) {
    if (record["kind"] != "eval") continue;
    evals.push_back(record);
    EXPECT_TRUE(record.contains("mlm_accuracy")) << record.dump();
    EXPECT_FALSE(record.contains("disc_auc")) << record.dump();  // no random head's figures
  }
  ASSERT_EQ(evals.size(), 2u);
  // It learns: the held-out MLM loss (the same masks each time) falls from step 6 to step 12.
  EXPECT_LT(evals[1]["mlm_loss"].get<double>(), evals[0]["mlm_loss"].get<double>());
  // The checkpoint's discriminator is the trained encoder: exported, its embeddings and layers
  // are the MLM model's, byte for byte (only the heads differ).
  const auto exported = run_shell(kElectra + " export --checkpoint " + quote(run) + " --out " +
                                  quote(path("mlm-export")));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const auto generator = SafetensorsFile::read(path("mlm-export") + "/generator/model.safetensors");
  const auto discriminator =
      SafetensorsFile::read(path("mlm-export") + "/discriminator/model.safetensors");
  int compared = 0;
  for (const auto& entry : generator.tensors()) {
    if (entry.name.rfind("electra.", 0) != 0) continue;  // the MLM head
    const auto* twin = discriminator.find(entry.name);
    ASSERT_NE(twin, nullptr) << entry.name;
    EXPECT_EQ(generator.data(entry), discriminator.data(*twin)) << entry.name;
    ++compared;
  }
  EXPECT_GT(compared, 60);
  EXPECT_TRUE(fails_with(
      run_shell(kElectra + " pretrain --config " + quote(kTiny) + " --data " + quote(path("data")) +
                " --out " + quote(path("mlm-init")) + " --strategy mlm --init-from " + quote(run)),
      2, "--init-from with --strategy mlm"));
  // Plotted alone and beside itself: the MLM panels only (no RTD figures to draw).
  const auto plotted = run_shell(kElectra + " plot " + quote(run));
  EXPECT_EQ(plotted.exit_code, 0) << plotted.output;
  const auto side = run_shell(kElectra + " plot " + quote(run) + " " + quote(run) + " --out " +
                              quote(path("mlm-side.png")));
  EXPECT_EQ(side.exit_code, 0) << side.output;
  EXPECT_TRUE(std::filesystem::exists(path("mlm-side.json")));
  // Stopped at a checkpoint and resumed: every record equals the uninterrupted run's.
  const std::string pieces = path("mlm-pieces");
  ASSERT_EQ(run_shell(pretrain(pieces, "mlm", 6) + "--stop-at 6").exit_code, 0);
  const auto resumed = run_shell(pretrain(pieces, "mlm", 6));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed at step 6"), std::string::npos) << resumed.output;
  expect_same_records(train_records(pieces), records, {"loss", "mlm_loss", "lr"});
  // Resumed as two-stage (a model of the same shape) it is refused: two-stage would train the
  // discriminator the MLM run never trained.
  EXPECT_TRUE(fails_with(run_shell(pretrain(run, "two-stage", 6)), 1,
                         "the run was trained with --strategy mlm, now --strategy two-stage"));
}

// --gen-lr-scale slows the generator's own parameters only: at 1e-30 its encoder, head and
// output bias move by less than 1e-20 from step 6 to step 12 (weights keep their bytes; biases
// that start at 0 take steps of 1e-30) while the embeddings it shares with the discriminator
// (word rows = its output layer) and the discriminator's own layers go on learning.
TEST_F(Strategy, GeneratorLearningRateScaleLeavesTheSharedEmbeddingsAtTheFullRate) {
  const std::string run = path("slow-generator");
  const auto trained = run_shell(pretrain(run, "joint") + "--gen-lr-scale 1e-30");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_EQ(testing::read_json(run + "/train_config.json")["generator_lr_scale"], 1e-30);
  for (const char* step : {"6", "12"}) {
    const auto exported =
        export_checkpoint(run, std::atoi(step), path(std::string("slow-") + step));
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
  }
  const auto weights = [&](const char* step, const char* network) {
    return SafetensorsFile::read(path(std::string("slow-") + step) + "/" + network +
                                 "/model.safetensors");
  };
  const auto generator_6 = weights("6", "generator"), generator_12 = weights("12", "generator");
  const auto largest_change = [](std::string_view before, std::string_view after) {
    std::vector<float> a(before.size() / sizeof(float)), b(a.size());
    std::memcpy(a.data(), before.data(), before.size());
    std::memcpy(b.data(), after.data(), after.size());
    double largest = 0;
    for (size_t i = 0; i < a.size(); ++i)
      largest = std::max(largest, double(std::fabs(a[i] - b[i])));
    return largest;
  };
  int kept = 0, moved = 0;
  for (const auto& entry : generator_6.tensors()) {
    const auto* later = generator_12.find(entry.name);
    ASSERT_NE(later, nullptr) << entry.name;
    ASSERT_EQ(entry.dtype, model::DType::kF32) << entry.name;
    const double change = largest_change(generator_6.data(entry), generator_12.data(*later));
    const bool shared =
        entry.name.rfind("electra.embeddings.", 0) == 0 || entry.name == "generator_lm_head.weight";
    if (shared) {
      moved += change > 1e-6;
    } else {
      EXPECT_LT(change, 1e-20) << entry.name << " learned at a rate of 1e-30";
      kept += change < 1e-20;
    }
  }
  EXPECT_GT(kept, 40);
  EXPECT_GE(moved, 2);  // the word rows (its output layer too) and the position rows at least
  const auto discriminator_6 = weights("6", "discriminator");
  const auto discriminator_12 = weights("12", "discriminator");
  const char* const layer_name = "electra.encoder.layer.0.output.dense.weight";
  const auto* layer_6 = discriminator_6.find(layer_name);
  const auto* layer_12 = discriminator_12.find(layer_name);
  ASSERT_TRUE(layer_6 != nullptr && layer_12 != nullptr);
  EXPECT_GT(largest_change(discriminator_6.data(*layer_6), discriminator_12.data(*layer_12)), 1e-6);
}

TEST_F(Strategy, AnOddNumberOfTwoStageStepsIsRefused) {
  EXPECT_TRUE(fails_with(
      run_shell(kElectra + " pretrain --config " + quote(kTiny) + " --data " + quote(path("data")) +
                " --out " + quote(path("odd")) + " --strategy two-stage --train-steps 11"),
      2, "--train-steps must be even with --strategy two-stage"));
}

TEST_F(Strategy, AnUnknownStrategyIsRefusedNamingTheOption) {
  EXPECT_TRUE(fails_with(
      run_shell(kElectra + " pretrain --config " + quote(kTiny) + " --data " + quote(path("data")) +
                " --out " + quote(path("x")) + " --strategy greedy"),
      2, "--strategy must be joint, two-stage, adversarial or mlm"));
}

}  // namespace
}  // namespace electra
