// electra pretrain end to end: a short run under mpirun -np 2 whose evaluation loss falls, whose
// checkpoint exports to HuggingFace format and loads again, and whose curves plot; and clear
// errors, before any training step, for input that cannot work.
#include <gtest/gtest.h>

#include <torch/cuda.h>
#include <regex>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "app/train/metrics_log.h"
#include "app/train/tensorboard_events.h"
#include "test_util.h"

namespace electra {
namespace {

using electra::testing::fails_with;
using electra::testing::run_shell;
using electra::testing::TempDir;
namespace fs = std::filesystem;

const std::string kElectra = ELECTRA_BINARY;
const std::string kMpirun = ELECTRA_MPIRUN;
const std::string kTiny = std::string(ELECTRA_CONFIG_DIR) + "/tiny.ini";

using electra::testing::quote;

// One corpus for the suite: Moby Dick at sequence length 64, 5% validation.
class Pretrain : public ::testing::Test {
 public:  // the static helpers serve the free helpers below too
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto prepared =
        run_shell(kElectra + " prepare --input " +
                  quote(std::string(ELECTRA_DATA_DIR) + "/sample/mobydick.txt") + " --out " +
                  quote(data()) + " --seq-len 64 --shards 2 --val-fraction 0.05");
    ASSERT_EQ(prepared.exit_code, 0) << prepared.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string data() { return *dir_ / "data"; }
  static std::string path(const std::string& name) { return *dir_ / name; }
  static std::string pretrain(const std::string& out) {
    return kElectra + " pretrain --config " + quote(kTiny) + " --data " + quote(data()) +
           " --out " + quote(out) + " --eval-examples 64 --device cpu ";
  }
  static TempDir* dir_;
};
TempDir* Pretrain::dir_ = nullptr;

TEST_F(Pretrain, TwoRanksTrainEvaluateCheckpointExportAndPlot) {
  const std::string run = path("run");
  const auto trained =
      run_shell(kMpirun + " -np 2 -x OMP_NUM_THREADS=1 " + pretrain(run) +
                "--train-steps 40 --warmup-steps 4 --batch-size 8 --log-every 10 --eval-every 20 "
                "--save-every 20");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("2 rank(s) x batch 8"), std::string::npos) << trained.output;
  std::vector<nlohmann::json> train, eval;
  for (const auto& record : train::read_metrics(run + "/metrics.jsonl")) {
    (record["kind"] == "train" ? train : eval).push_back(record);
  }
  ASSERT_EQ(train.size(), 4u);
  for (const char* field :
       {"step", "loss", "mlm_loss", "disc_loss", "lr", "grad_norm", "tokens_per_s"}) {
    EXPECT_TRUE(train.back().contains(field)) << field;
  }
  ASSERT_EQ(eval.size(), 2u);
  for (const char* field : {"mlm_loss", "mlm_accuracy", "disc_loss", "disc_accuracy",
                            "disc_precision", "disc_recall", "disc_auc", "replaced_fraction"}) {
    EXPECT_TRUE(eval.back().contains(field)) << field;
  }
  EXPECT_LT(eval[1]["mlm_loss"].get<double>(), eval[0]["mlm_loss"].get<double>());
  EXPECT_EQ(eval[1]["examples"], 64);
  size_t events = 0;
  for (const auto& file : fs::directory_iterator(run + "/tensorboard")) {
    events += train::read_tensorboard_events(file.path().string()).size();
  }
  EXPECT_EQ(events, 6u);
  for (const char* file :
       {"COMPLETE", "model.pt", "optimizer.pt", "train_config.json", "model_config.json",
        "vocab.txt", "rank-00000.json", "rank-00001.json"}) {
    EXPECT_TRUE(fs::exists(run + "/checkpoints/step-00000040/" + file)) << file;
  }
  // Exported to HuggingFace format, the discriminator loads and scores; the curves plot.
  const auto exported =
      run_shell(kElectra + " export --checkpoint " + quote(run) + " --out " + quote(path("hf")));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const auto scored = run_shell(kElectra + " score --model " +
                                quote(path("hf") + "/discriminator") + " --text 'call me ishmael'");
  EXPECT_EQ(scored.exit_code, 0) << scored.output;
  EXPECT_NE(scored.output.find("\"replaced_prob\""), std::string::npos);
  const auto plotted = run_shell(kElectra + " plot " + quote(run));
  EXPECT_EQ(plotted.exit_code, 0) << plotted.output;
  EXPECT_GT(fs::file_size(run + "/curves.png"), 1000u);
  // Two runs side by side (here the same one twice, under two names): a PNG and its figures.
  const auto compared = run_shell(kElectra + " plot " + quote(run) + " " + quote(run) +
                                  " --label ours theirs --out " + quote(path("side.png")));
  ASSERT_EQ(compared.exit_code, 0) << compared.output;
  EXPECT_GT(fs::file_size(path("side.png")), 1000u);
  const auto side = testing::read_json(path("side.json"));
  ASSERT_EQ(side["runs"].size(), 2u) << side.dump();
  EXPECT_EQ(side["runs"][1]["label"], "theirs");
  EXPECT_EQ(side["runs"][0]["eval"], side["runs"][1]["eval"]);
  EXPECT_TRUE(side["runs"][0]["eval"].back().contains("disc_auc")) << side.dump();
  // Again in the same directory: one process with the same global batch (16) resumes from the
  // finished checkpoint and has nothing left to do; with another global batch it continues at
  // the row of the epoch where the 2 ranks stopped (40 steps x 16 rows).
  const auto again = run_shell(pretrain(run) + "--train-steps 40 --batch-size 16");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already at step 40"), std::string::npos) << again.output;
  // A checkpoint written before the model config had `share_embeddings` resumes as shared.
  const std::string model_config = run + "/checkpoints/step-00000040/model_config.json";
  nlohmann::json older = testing::read_json(model_config);
  ASSERT_EQ(older.erase("share_embeddings"), 1u);
  std::ofstream(model_config) << older.dump(2) << "\n";
  const auto old_config = run_shell(pretrain(run) + "--train-steps 40 --batch-size 16");
  EXPECT_NE(old_config.output.find("already at step 40"), std::string::npos) << old_config.output;
  const auto rebatched = run_shell(pretrain(run) + "--train-steps 42 --batch-size 4");
  EXPECT_EQ(rebatched.exit_code, 0) << rebatched.output;
  EXPECT_NE(rebatched.output.find("written by 2 rank(s) with global batch 16, now 1 rank(s) with "
                                  "global batch 4; the data continue at row 640 of epoch 0"),
            std::string::npos)
      << rebatched.output;
}

// The job ended by itself (not by the `timeout` guard, status 124) with a non-zero status and
// `message` in its output.
::testing::AssertionResult ended_with_error(const testing::CommandResult& result,
                                            const std::string& message) {
  if (result.exit_code == 0) return ::testing::AssertionFailure() << "exit 0: " << result.output;
  if (result.exit_code == 124) return ::testing::AssertionFailure() << "hung: " << result.output;
  if (result.output.find(message) == std::string::npos) {
    return ::testing::AssertionFailure() << "no \"" << message << "\" in: " << result.output;
  }
  return ::testing::AssertionSuccess();
}

std::vector<nlohmann::json> train_records(const std::string& run) {
  std::vector<nlohmann::json> records;
  for (const auto& record : train::read_metrics(run + "/metrics.jsonl")) {
    if (record["kind"] == "train") records.push_back(record);
  }
  return records;
}

// Runs 24 steps on RANKS ranks (global batch 8) uninterrupted (WHOLE) and again (RUN) with
// `interruption` — a shell command given $pid (mpirun's) — run once step `after_step` is logged;
// the output of that run ends with "exit=STATUS after=SECONDSs". Then resumes RUN and expects
// every train record of WHOLE, exactly. Returns the interrupted run's output and the resumed
// run's output.
std::pair<std::string, std::string> interrupt_and_resume(int ranks, const std::string& whole,
                                                         const std::string& run,
                                                         const std::string& save_every,
                                                         int after_step,
                                                         const std::string& interruption) {
  const std::string settings = "--train-steps 24 --batch-size " +
                               std::to_string(8 / std::max(ranks, 1)) +
                               " --log-every 1 --eval-every 0 --save-every " + save_every + " ";
  // ranks 0: one process without mpirun, in its own process group (set -m) as a job started
  // from a terminal is, so that it takes SIGINT.
  const std::string mpirun =
      ranks ? kMpirun + " -np " + std::to_string(ranks) + " -x OMP_NUM_THREADS=1 " : "";
  const auto uninterrupted = run_shell(mpirun + Pretrain::pretrain(whole) + settings);
  EXPECT_EQ(uninterrupted.exit_code, 0) << uninterrupted.output;
  const auto interrupted = run_shell(
      "bash -c '" + std::string(ranks ? "" : "set -m; ") + mpirun + Pretrain::pretrain(run) +
      settings + "& pid=$!; for i in $(seq 600); do grep -q step.:" + std::to_string(after_step) +
      ", " + run + "/metrics.jsonl 2>/dev/null && break; sleep 0.05; done; " + interruption +
      "; start=$(date +%s); wait $pid; echo exit=$? after=$(( $(date +%s) - start ))s'");
  EXPECT_LT(train_records(run).size(), 24u) << "the interruption came too late to test";
  EXPECT_FALSE(fs::exists(run + "/FINISHED"));
  const auto resumed = run_shell(mpirun + Pretrain::pretrain(run) + settings);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(fs::exists(run + "/FINISHED"));
  const auto a = train_records(whole), b = train_records(run);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(b.size(), 24u);
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    for (const char* field : {"step", "loss", "grad_norm"})
      EXPECT_EQ(a[i][field], b[i][field]) << i;
  }
  return {interrupted.output, resumed.output};
}

TEST_F(Pretrain, SigusrToMpirunCheckpointsExitsWith75AndTheResumeEndsAsUninterrupted) {
  // SLURM's --signal=USR1 reaches mpirun, which forwards it to the ranks.
  for (int ranks : {2, 4}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const std::string tag = std::to_string(ranks);
    const auto [signalled, resumed] = interrupt_and_resume(
        ranks, path("whole" + tag), path("signalled" + tag), "0", 4, "kill -USR1 $pid");
    EXPECT_NE(signalled.find("exit=75"), std::string::npos) << signalled;
    EXPECT_NE(signalled.find("SIGUSR1 at step"), std::string::npos) << signalled;
  }
}

TEST_F(Pretrain, CtrlCCheckpointsLikeSigtermAndASecondCtrlCExitsAtOnce) {
  const auto [interrupted, resumed] =
      interrupt_and_resume(0, path("whole-int"), path("ctrl-c"), "0", 4, "kill -INT $pid");
  EXPECT_NE(interrupted.find("stopping at the next step boundary"), std::string::npos)
      << interrupted;
  EXPECT_NE(interrupted.find("SIGINT at step"), std::string::npos) << interrupted;
  EXPECT_NE(interrupted.find("exit=75"), std::string::npos) << interrupted;
  EXPECT_NE(resumed.find("resumed at step"), std::string::npos) << resumed;
  // Twice: out at once with 130, without the checkpoint the first would have written.
  const std::string run = path("ctrl-c-twice");
  const auto twice = run_shell(
      "bash -c 'set -m; " + Pretrain::pretrain(run) +
      "--train-steps 400 --batch-size 8 --log-every 1 --eval-every 0 --save-every 0 & pid=$!; "
      "for i in $(seq 600); do grep -q step.:2, " +
      run +
      "/metrics.jsonl 2>/dev/null && break; sleep 0.05; done; kill -INT $pid; sleep 0.02; "
      "kill -INT $pid; wait $pid; echo exit=$?'");
  EXPECT_NE(twice.output.find("second interrupt: exiting at once"), std::string::npos)
      << twice.output;
  EXPECT_NE(twice.output.find("exit=130"), std::string::npos) << twice.output;
  EXPECT_FALSE(fs::exists(run + "/FINISHED"));
}

TEST_F(Pretrain, AKilledRankEndsTheJobAndARestartResumesExactly) {
  // kill -9 of one rank (the newest electra process of this run) after a random step from 5 to
  // 16 (after the first checkpoint: every 4 steps).
  std::random_device random;
  for (int ranks : {2, 4}) {
    const int step = 5 + int(random() % 12);
    SCOPED_TRACE(std::to_string(ranks) + " ranks, killed after step " + std::to_string(step));
    const std::string run = path("killed" + std::to_string(ranks));
    const auto [killed, restarted] =
        interrupt_and_resume(ranks, path("whole-k" + std::to_string(ranks)), run, "4", step,
                             "kill -9 $(pgrep -n -f \"electra pretrain.*" + run + "\")");
    EXPECT_EQ(killed.find("exit=0 "), std::string::npos) << killed;
    const size_t after = killed.find("after=");
    ASSERT_NE(after, std::string::npos) << killed;
    EXPECT_LT(std::stoi(killed.substr(after + 6)), 60) << killed;
    EXPECT_NE(restarted.find("resumed at step"), std::string::npos) << restarted;
  }
}

// NVIDIA's two phases at a tiny size on 2 ranks: phase 1 on 64-token examples (a tiny model with
// 512 positions), phase 2 from it on 512-token examples with its optimizer moments and a schedule
// of its own (configs/phase2-512.ini); phase 2 stopped by SIGUSR1 and run again ends as the
// uninterrupted phase 2, step by step; the result exports with 512 positions.
TEST_F(Pretrain, PhaseTwoAt512FromPhaseOneOnTwoRanksResumesAndExports) {
  const std::string mpirun = kMpirun + " -np 2 -x OMP_NUM_THREADS=1 ";
  const std::string data512 = path("data512");
  const auto prepared =
      run_shell(kElectra + " prepare --input " +
                quote(std::string(ELECTRA_DATA_DIR) + "/sample/mobydick.txt") + " --out " +
                quote(data512) + " --seq-len 512 --shards 2 --val-fraction 0.05");
  ASSERT_EQ(prepared.exit_code, 0) << prepared.output;
  const std::string phase1 = path("phase1");
  const auto first = run_shell(mpirun + pretrain(phase1) +
                               "--set max_position_embeddings=512 --train-steps 12 "
                               "--warmup-steps 2 --batch-size 4 --log-every 6 --eval-every 0");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto phase2 = [&](const std::string& out) {
    return mpirun + kElectra + " pretrain --config " +
           quote(std::string(ELECTRA_CONFIG_DIR) + "/phase2-512.ini") + " --init-from " +
           quote(phase1) + " --data " + quote(data512) + " --out " + quote(out) +
           " --device cpu --eval-examples 8 --train-steps 10 --warmup-steps 2 --batch-size 2 "
           "--log-every 1 --eval-every 0 --save-every 0 ";
  };
  const std::string whole = path("phase2-whole"), run = path("phase2");
  const auto uninterrupted = run_shell(phase2(whole));
  ASSERT_EQ(uninterrupted.exit_code, 0) << uninterrupted.output;
  EXPECT_NE(uninterrupted.output.find("its optimizer moments, a new schedule from step 0"),
            std::string::npos)
      << uninterrupted.output;
  EXPECT_NE(uninterrupted.output.find("x 512 tokens"), std::string::npos) << uninterrupted.output;
  const nlohmann::json recorded = testing::read_json(whole + "/train_config.json")["init_from"];
  EXPECT_EQ(recorded["source"], phase1);
  EXPECT_EQ(recorded["optimizer"], "from the source");
  EXPECT_EQ(recorded["weights_sha256"].size(), 1u);
  const auto interrupted = run_shell(
      "bash -c '" + phase2(run) + "& pid=$!; for i in $(seq 600); do grep -q step.:3, " + run +
      "/metrics.jsonl 2>/dev/null && break; sleep 0.05; done; kill -USR1 $pid; wait $pid; "
      "echo exit=$?'");
  EXPECT_NE(interrupted.output.find("exit=75"), std::string::npos) << interrupted.output;
  EXPECT_LT(train_records(run).size(), 10u) << "the signal came too late to test";
  const auto resumed = run_shell(phase2(run));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("they resume (the source is not read again)"), std::string::npos)
      << resumed.output;
  const auto a = train_records(whole), b = train_records(run);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(b.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) {
    for (const char* field : {"step", "loss", "grad_norm", "lr"})
      EXPECT_EQ(a[i][field], b[i][field]) << i;
  }
  const auto exported =
      run_shell(kElectra + " export --checkpoint " + quote(run) + " --out " + quote(path("hf512")));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_EQ(
      testing::read_json(path("hf512") + "/discriminator/config.json")["max_position_embeddings"],
      512);
}

TEST_F(Pretrain, ANonFiniteLossOnOneRankSkipsTheStepEverywhereAndTooManyStopTraining) {
  const std::string mpirun = kMpirun + " -np 2 -x OMP_NUM_THREADS=1 ";
  const std::string settings = "--train-steps 6 --batch-size 4 --log-every 1 --eval-every 0 ";
  const auto once =
      run_shell(mpirun + "-x ELECTRA_INJECT_NONFINITE=1:3:1 " + pretrain(path("nan1")) + settings);
  ASSERT_EQ(once.exit_code, 0) << once.output;
  EXPECT_NE(once.output.find("step 3: non-finite loss or gradients on some rank; update skipped"),
            std::string::npos)
      << once.output;
  const auto records = train::read_metrics(path("nan1") + "/metrics.jsonl");
  EXPECT_EQ(std::count_if(records.begin(), records.end(),
                          [](const auto& r) { return r["kind"] == "skipped" && r["step"] == 3; }),
            1);
  const auto diverged = run_shell(mpirun + "-x ELECTRA_INJECT_NONFINITE=1:3:2 " +
                                  pretrain(path("nan2")) + settings + "--max-nonfinite-steps 2");
  EXPECT_TRUE(fails_with(diverged, 1, "training diverged: 2 steps in a row")) << diverged.output;
}

TEST_F(Pretrain, AFailedCheckpointWriteKeepsThePreviousOneLoadable) {
  // A disk that fills up, here a file-size limit of 200 KiB (model.pt is 11 MB): the step-4
  // checkpoint fails with the reason, is removed, and step 2's stays the one to resume from.
  const std::string run = path("full-disk");
  const std::string settings = "--batch-size 4 --log-every 1 --eval-every 0 --save-every 2 ";
  ASSERT_EQ(run_shell(pretrain(run) + settings + "--train-steps 2").exit_code, 0);
  const auto full =
      run_shell("bash -c 'ulimit -f 200; exec " + pretrain(run) + settings + "--train-steps 4'");
  EXPECT_TRUE(fails_with(full, 1, "model.pt.tmp: write failed: File too large")) << full.output;
  EXPECT_NE(full.output.find("the previous checkpoint is kept"), std::string::npos);
  EXPECT_FALSE(fs::exists(run + "/checkpoints/step-00000004"));
  const auto resumed = run_shell(pretrain(run) + settings + "--train-steps 4");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed at step 2"), std::string::npos) << resumed.output;
  EXPECT_TRUE(fs::exists(run + "/checkpoints/step-00000004/COMPLETE"));
}

TEST_F(Pretrain, ACheckpointKilledMidWriteIsNeverLoaded) {
  // Both ranks die while the step-4 checkpoint is written (model and optimizer files written,
  // no COMPLETE marker): the restart resumes from step 2 and ends as an uninterrupted run.
  const std::string mpirun = kMpirun + " -np 2 -x OMP_NUM_THREADS=1 ";
  const std::string settings =
      "--train-steps 6 --batch-size 4 --log-every 1 --eval-every 0 --save-every 2 ";
  ASSERT_EQ(run_shell(mpirun + pretrain(path("whole-c")) + settings).exit_code, 0);
  const std::string run = path("crashed");
  const auto crashed =
      run_shell(mpirun + "-x ELECTRA_INJECT_CHECKPOINT_CRASH=4 " + pretrain(run) + settings);
  EXPECT_NE(crashed.exit_code, 0) << crashed.output;
  EXPECT_TRUE(fs::exists(run + "/checkpoints/step-00000004/model.pt"));
  EXPECT_FALSE(fs::exists(run + "/checkpoints/step-00000004/COMPLETE"));
  const auto resumed = run_shell(mpirun + pretrain(run) + settings);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed at step 2"), std::string::npos) << resumed.output;
  const auto a = train_records(path("whole-c")), b = train_records(run);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i]["loss"], b[i]["loss"]) << i;
}

TEST_F(Pretrain, ACorruptShardMidEpochStopsTheJobWithAnErrorNamingIt) {
  // Damaged bytes in row 400 of a train shard's token ids: the job trains until the epoch's
  // order reaches that block, then stops with the file and the row.
  const std::string corrupt = path("corrupt-data");
  fs::copy(data(), corrupt);
  const std::string shard = corrupt + "/train-00001.h5";
  ASSERT_EQ(run_shell("/usr/bin/python3 -c \"import h5py, sys; "
                      "f = h5py.File(sys.argv[1], 'r'); "
                      "at = f['input_ids'].id.get_chunk_info(0).byte_offset + 400 * 64 * 2; "
                      "f.close(); out = open(sys.argv[1], 'r+b'); out.seek(at); "
                      "out.write(b'\\xff' * 128)\" " +
                      quote(shard))
                .exit_code,
            0);
  const auto failed = run_shell("timeout 300 " + kMpirun + " -np 2 -x OMP_NUM_THREADS=1 " +
                                kElectra + " pretrain --config " + quote(kTiny) + " --data " +
                                quote(corrupt) + " --out " + quote(path("corrupt-run")) +
                                " --batch-size 16 --train-steps 2000 --log-every 1 --eval-every 0 "
                                "--save-every 0 --device cpu --word-rows-init random "
                                "--output-bias-init zero");
  EXPECT_TRUE(ended_with_error(
      failed, "train-00001.h5: row 400: token id 65535 is impossible; the shard is corrupt"));
  EXPECT_NE(failed.output.find("step 10/2000"), std::string::npos) << "not mid-epoch";
  // The start from the corpus's counts reads every row on rank 0 before the first step: rank 0
  // names the row, rank 1 points to it, and both end (no rank waits for the other).
  const auto counted = run_shell("timeout 300 " + kMpirun + " -np 2 -x OMP_NUM_THREADS=1 " +
                                 kElectra + " pretrain --config " + quote(kTiny) + " --data " +
                                 quote(corrupt) + " --out " + quote(path("corrupt-counted")) +
                                 " --word-rows-init ppmi --output-bias-init unigram --device cpu");
  EXPECT_TRUE(
      ended_with_error(counted, "rank 0: " + shard + ": row 400: token id 65535 is impossible"));
  EXPECT_TRUE(ended_with_error(
      counted, "rank 1: rank 0 could not make the start from the corpus's counts; see rank 0's"));
  EXPECT_EQ(counted.output.find("step 1/"), std::string::npos) << counted.output;
}

double first_mlm_loss(const std::string& run) {
  for (const auto& record : train::read_metrics(run + "/metrics.jsonl")) {
    if (record["kind"] == "train") return record["mlm_loss"].get<double>();
  }
  return 0;
}

std::string recorded(const std::string& run, const char* field) {
  std::ifstream in(run + "/train_config.json");
  return nlohmann::json::parse(in)[field].get<std::string>();
}

// --word-rows-init ppmi --output-bias-init unigram: said, recorded, a generator that starts at the
// unigram prior (its first MLM loss far below a uniform guess's log 30522 = 10.3); resumed runs
// and --init-from keep their weights.
TEST_F(Pretrain, TheStartFromTheCorpusCountsIsSaidRecordedAndYieldsToTrainedWeights) {
  const std::string quick = "--train-steps 2 --batch-size 4 --log-every 1 --eval-every 0 ";
  const std::string counted = path("counted"), paper = path("paper");
  const auto started =
      run_shell(pretrain(counted) + quick + "--word-rows-init ppmi --output-bias-init unigram");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  EXPECT_TRUE(std::regex_search(
      started.output, std::regex("pretrain: the start from the corpus's counts: counted [0-9,]+ "
                                 "tokens .*SVD to 64 dimensions.*log unigram prior")))
      << started.output;
  EXPECT_EQ(recorded(counted, "word_rows_init"), "ppmi");
  EXPECT_EQ(recorded(counted, "output_bias_init"), "unigram");
  const auto fresh =
      run_shell(pretrain(paper) + quick + "--word-rows-init random --output-bias-init zero");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  EXPECT_EQ(fresh.output.find("corpus's counts"), std::string::npos) << fresh.output;
  EXPECT_GT(first_mlm_loss(paper), 10.0);
  EXPECT_LT(first_mlm_loss(counted), 8.5);
  const auto resumed = run_shell(pretrain(counted) +
                                 "--train-steps 3 --batch-size 4 "
                                 "--word-rows-init ppmi --output-bias-init unigram");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(resumed.output.find("corpus's counts"), std::string::npos) << resumed.output;
  EXPECT_EQ(resumed.output.find("which started with"), std::string::npos) << resumed.output;
  // Resumed with other start options: the run keeps (and records) the start it was made with.
  const auto other = run_shell(pretrain(counted) +
                               "--train-steps 4 --batch-size 4 "
                               "--word-rows-init random --output-bias-init zero");
  ASSERT_EQ(other.exit_code, 0) << other.output;
  EXPECT_NE(
      other.output.find("which started with --word-rows-init ppmi --output-bias-init "
                        "unigram (kept; the start options of this command apply to a fresh run)"),
      std::string::npos)
      << other.output;
  EXPECT_EQ(recorded(counted, "word_rows_init"), "ppmi");
  const std::string continued = path("continued");
  const auto init = run_shell(pretrain(continued) + quick + "--init-from " + quote(counted) +
                              " --word-rows-init ppmi --output-bias-init unigram");
  ASSERT_EQ(init.exit_code, 0) << init.output;
  EXPECT_NE(init.output.find("pretrain: --word-rows-init ppmi and --output-bias-init unigram: a "
                             "fresh pair's start, not applied: the run starts from " +
                             counted + "'s weights"),
            std::string::npos)
      << init.output;
  EXPECT_EQ(init.output.find("the start from the corpus's counts"), std::string::npos);
  EXPECT_EQ(recorded(continued, "word_rows_init"), "random");
}

// configs/tiny-neighbour-heads.ini (issue 27): the heads it sets reach the checkpoint and both
// networks' config.json in an export, which says that HuggingFace ignores them.
TEST_F(Pretrain, TheNeighbourHeadsPresetCarriesItsHeadsThroughCheckpointAndExport) {
  const std::string run = path("neighbours"), hf = path("neighbours-hf");
  const std::string preset = std::string(ELECTRA_CONFIG_DIR) + "/tiny-neighbour-heads.ini";
  const auto trained = run_shell(kElectra + " pretrain --config " + quote(preset) + " --data " +
                                 quote(data()) + " --out " + quote(run) +
                                 " --device cpu --train-steps 2 --batch-size 4 "
                                 "--eval-every 0");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const auto model = testing::read_json(run + "/checkpoints/step-00000002/model_config.json");
  EXPECT_EQ(model["local_head_slope"], 4.0);
  EXPECT_EQ(model["local_head_centre"], 1);
  EXPECT_EQ(testing::read_json(run + "/train_config.json")["learning_rate"], 5e-4);
  const auto exported =
      run_shell(kElectra + " export --checkpoint " + quote(run) + " --out " + quote(hf));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_NE(exported.output.find("note: local_head_slope 4 (local_head_centre 1) is electra's "
                                 "alone"),
            std::string::npos)
      << exported.output;
  for (const char* network : {"discriminator", "generator"}) {
    const auto config = testing::read_json(hf + "/" + network + "/config.json");
    EXPECT_EQ(config["local_head_slope"], 4.0) << network;
    EXPECT_EQ(config["local_head_centre"], 1) << network;
  }
}

TEST_F(Pretrain, InputThatCannotWorkIsRefusedBeforeTraining) {
  const std::string quick = "--train-steps 2 --batch-size 4 ";
  EXPECT_TRUE(fails_with(run_shell(kElectra + " pretrain --data " + quote(path("nope")) +
                                   " --out " + quote(path("o1")) + " --model tiny"),
                         1, "no such data directory"));
  EXPECT_TRUE(
      fails_with(run_shell(pretrain(path("o2")) + quick + "--set max_position_embeddings=32"), 1,
                 "sequences of 64 tokens, but the model has 32 positions"));
  testing::write_file(path("other-vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
  EXPECT_TRUE(fails_with(
      run_shell(pretrain(path("o3")) + quick + "--vocab " + quote(path("other-vocab.txt"))), 1,
      "prepared with another vocabulary"));
  testing::write_file(path("a-file"), "x");
  EXPECT_TRUE(fails_with(run_shell(pretrain(path("a-file") + "/out") + quick), 1,
                         "a-file is a file; choose another --out"));
  EXPECT_TRUE(fails_with(run_shell(pretrain(path("o4")) + quick + "--resume"), 1,
                         "no complete checkpoint"));
  EXPECT_TRUE(fails_with(run_shell(pretrain(path("o5")) + quick + "--optimizer sgd"), 2,
                         "--optimizer must be adamw or lamb"));
  // The device: a choice it does not know, a CUDA graph on the CPU (the base command says
  // --device cpu), and CUDA where there is none.
  const std::string bare = kElectra + " pretrain --config " + quote(kTiny) + " --data " +
                           quote(data()) + " --out " + quote(path("o9")) + " " + quick;
  EXPECT_TRUE(
      fails_with(run_shell(bare + "--device gpu"), 2, "--device must be auto, cpu or cuda"));
  EXPECT_TRUE(fails_with(run_shell(pretrain(path("o9")) + quick + "--cuda-graph"), 2,
                         "--cuda-graph needs a CUDA device (--device cpu)"));
  if (!torch::cuda::is_available()) {
    EXPECT_TRUE(fails_with(run_shell(bare + "--device cuda"), 1,
                           "--device cuda, but no CUDA device is usable here"));
    EXPECT_TRUE(fails_with(run_shell(bare + "--cuda-graph"), 2,
                           "--cuda-graph needs a CUDA device (no CUDA device here)"));
  }
  EXPECT_FALSE(fs::exists(path("o9") + "/checkpoints"));
  // A damaged checkpoint: refused on resume, nothing trained.
  const std::string run = path("damaged");
  ASSERT_EQ(run_shell(pretrain(run) + quick).exit_code, 0);
  fs::resize_file(run + "/checkpoints/step-00000002/model.pt", 100);
  const auto resumed = run_shell(pretrain(run) + "--train-steps 4 --batch-size 4");
  EXPECT_TRUE(fails_with(resumed, 1, "cannot load the model")) << resumed.output;
  EXPECT_EQ(resumed.output.find("step 3/4"), std::string::npos) << resumed.output;
  // A rank that fails during training ends the job (the other waits in a collective) with its
  // error and its rank.
  const auto failed = run_shell("timeout 120 " + kMpirun + " -np 2 -x ELECTRA_INJECT_FAILURE=1:3 " +
                                pretrain(path("o7")) + "--train-steps 6 --batch-size 4");
  EXPECT_TRUE(ended_with_error(failed, "rank 1: injected failure at step 3"));
  EXPECT_NE(failed.output.find("rank 1: injected failure at step 3"), std::string::npos)
      << failed.output;
  // A rank that stops responding (alive, never reaching the next collective): the other gives up
  // after --peer-timeout seconds naming the step, the operation and the silent rank, and the job
  // ends with the requeue status.
  const auto hung =
      run_shell("timeout 120 " + kMpirun + " -np 2 -x ELECTRA_INJECT_HANG=1:3 " +
                pretrain(path("o8")) + "--train-steps 6 --batch-size 4 --peer-timeout 5");
  EXPECT_EQ(hung.exit_code, 76) << hung.output;
  EXPECT_TRUE(std::regex_search(
      hung.output,
      std::regex("electra: rank 0 \\([^)]+\\): step 3: MPI_Iallreduce of gradient bucket [0-9]+ "
                 "did not complete within 5.00 s .*no answer within 5.00 s from rank 1 "
                 "\\([^)]+\\); exit status 76")))
      << hung.output;
  // Under mpirun every rank reports its own error with its rank.
  const auto ranks =
      run_shell(kMpirun + " -np 2 " + kElectra + " pretrain --model tiny --data " +
                quote(path("nope")) + " --out " + quote(path("o6")) + " --device cpu");
  EXPECT_NE(ranks.exit_code, 0);
  EXPECT_NE(ranks.output.find("rank 0: "), std::string::npos) << ranks.output;
  EXPECT_NE(ranks.output.find("rank 1: "), std::string::npos) << ranks.output;
}

}  // namespace
}  // namespace electra
