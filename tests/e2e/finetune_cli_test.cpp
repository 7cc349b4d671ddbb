// electra finetune / evaluate / export end to end on a synthetic task the tiny HuggingFace
// fixture pair can learn in seconds: a text is "spam" when it contains the word "prize". On one
// process and data parallel on 2 ranks; plus the errors for input that cannot work.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>

#include "test_util.h"

namespace electra {
namespace {

namespace fs = std::filesystem;
using testing::quote;
using testing::run_shell;
const std::string kElectra = ELECTRA_BINARY;
const std::string kFixture = std::string(ELECTRA_TEST_DATA_DIR) + "/../fixtures/hf-electra-tiny";

// ROWS examples of 6-10 words; half contain "prize" (label spam), half not (ham).
std::string synthetic_task(int rows, unsigned seed) {
  const std::vector<std::string> words{"apple", "river", "green", "house", "music", "table",
                                       "cloud", "stone", "paper", "light", "chair", "water"};
  std::mt19937 rng(seed);
  std::string text = "text\tlabel\n";
  for (int r = 0; r < rows; ++r) {
    const bool spam = r % 2 == 0;
    const int length = 6 + int(rng() % 5);
    const int at = int(rng() % unsigned(length));
    std::string line;
    for (int i = 0; i < length; ++i) {
      line +=
          (i ? " " : "") + (spam && i == at ? std::string("prize") : words[rng() % words.size()]);
    }
    text += line + "\t" + (spam ? "spam" : "ham") + "\n";
  }
  return text;
}

class Finetune : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    testing::write_file(path("train.tsv"), synthetic_task(192, 1));
    testing::write_file(path("dev.tsv"), synthetic_task(64, 2));
    testing::write_file(path("test.tsv"), synthetic_task(64, 3));
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string path(const std::string& name) { return *dir_ / name; }
  static std::string finetune(const std::string& out, int batch_size = 16) {
    return kElectra + " finetune --model " + quote(kFixture) + " --train " +
           quote(path("train.tsv")) + " --dev " + quote(path("dev.tsv")) + " --test " +
           quote(path("test.tsv")) + " --out " + quote(out) +
           " --epochs 8 --lr 2e-3 --batch-size " + std::to_string(batch_size) +
           " --max-seq-len 16 --threads 1 ";
  }
  static testing::TempDir* dir_;
};
testing::TempDir* Finetune::dir_ = nullptr;

nlohmann::json last_json(const std::string& output) {
  return nlohmann::json::parse(output.substr(output.rfind("\n{") + 1));
}

TEST_F(Finetune, LearnsTheTaskKeepsTheBestModelEvaluatesAndExports) {
  const std::string out = path("one");
  const auto trained = run_shell(finetune(out));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("epoch 8/8"), std::string::npos) << trained.output;
  const auto results = testing::read_json(out + "/results.json");
  std::printf("synthetic task, 1 process: dev accuracy %.4f (epoch %d), test accuracy %.4f\n",
              results["dev"]["accuracy"].get<double>(), results["best_epoch"].get<int>(),
              results["test"]["accuracy"].get<double>());
  EXPECT_GE(results["dev"]["accuracy"].get<double>(), 0.9) << results.dump(2);
  EXPECT_GE(results["test"]["accuracy"].get<double>(), 0.85) << results.dump(2);
  const auto task = testing::read_json(out + "/best/task.json");
  EXPECT_EQ(task["labels"], nlohmann::json({"ham", "spam"}));
  EXPECT_EQ(task["dev"], results["dev"]);  // the kept model is the best epoch's

  // evaluate: the kept model's metrics on the test file equal the ones finetune reported.
  const auto evaluated =
      run_shell("{ " + kElectra + " evaluate --model " + quote(out) + " --data " +
                quote(path("test.tsv")) + " --predictions " + quote(path("predictions.tsv")) +
                " 2>/dev/null; }");  // the metrics: standard output alone
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  const auto metrics = nlohmann::json::parse(evaluated.output);
  EXPECT_DOUBLE_EQ(metrics["accuracy"].get<double>(), results["test"]["accuracy"].get<double>());
  for (const char* field : {"accuracy", "f1", "matthews_corr", "examples"}) {
    EXPECT_TRUE(metrics.contains(field)) << field;
  }
  const std::string predictions = testing::read_file(path("predictions.tsv"));
  EXPECT_EQ(std::count(predictions.begin(), predictions.end(), '\n'), 65);
  EXPECT_EQ(predictions.rfind("index\tprediction\n", 0), 0u);

  // export: a directory ElectraForSequenceClassification loads (config and tensor names).
  const auto exported =
      run_shell(kElectra + " export --checkpoint " + quote(out) + " --out " + quote(path("hf")));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const auto config = testing::read_json(path("hf") + "/config.json");
  EXPECT_EQ(config["architectures"][0], "ElectraForSequenceClassification");
  EXPECT_EQ(config["id2label"]["1"], "spam");
  EXPECT_EQ(config["num_labels"], 2);
  const std::string tensors = testing::read_file(path("hf") + "/model.safetensors");
  EXPECT_NE(tensors.find("classifier.out_proj.weight"), std::string::npos);
  EXPECT_NE(tensors.find("electra.encoder.layer.1.output.dense.weight"), std::string::npos);
}

// The "epoch E/N  train loss L  dev ..." lines of a fine-tune's output, without their times.
std::vector<std::string> epoch_lines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("epoch ", 0) == 0) lines.push_back(line.substr(0, line.rfind("  (")));
  }
  return lines;
}

// Fine-tunes 3 epochs uninterrupted (WHOLE) and again (NAME) interrupted in its second epoch by
// KILL (a shell command given $pid, the launched process: electra itself, or mpirun with
// LAUNCHER), then resumes NAME with the same command and expects the uninterrupted run's epochs,
// best epoch, dev metrics and predictions.
void interrupt_and_resume(const std::string& launcher, const std::string& name,
                          const std::string& kill, const std::string& signal_name) {
  const auto command = [&](const std::string& out) {
    return launcher + kElectra + " finetune --model " + quote(kFixture) + " --train " +
           quote(Finetune::path("long-train.tsv")) + " --dev " + quote(Finetune::path("dev.tsv")) +
           " --out " + quote(out) +
           " --epochs 3 --lr 2e-3 --batch-size 8 --max-seq-len 16 --threads 1 --device cpu ";
  };
  const std::string whole_out = Finetune::path(name + "-whole");
  const auto whole = run_shell(command(whole_out));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  // Interrupted in its second epoch (once the first epoch's line is out).
  const std::string out = Finetune::path(name), log = out + ".log";
  const auto interrupted =
      run_shell("bash -c 'set -m; " + command(out) + " > " + log +
                " 2>&1 & pid=$!; for i in $(seq 600); do grep -q \"epoch 1/3\" " + log +
                " && break; sleep 0.02; done; " + kill + "; wait $pid; echo exit=$?'");
  const std::string first = testing::read_file(log);
  ASSERT_NE(interrupted.output.find("exit=75"), std::string::npos) << interrupted.output << first;
  // In epoch 2's steps, or (on a loaded machine) its evaluation: then saved at epoch 3's start.
  EXPECT_NE(first.find(signal_name + " at epoch "), std::string::npos) << first;
  EXPECT_TRUE(fs::exists(out + "/resume/state.json"));
  EXPECT_FALSE(fs::exists(out + "/results.json"));
  // Other settings cannot continue it.
  const auto other = run_shell(command(out) + "--seed 7");
  EXPECT_EQ(other.exit_code, 1) << other.output;
  EXPECT_NE(other.output.find("the interrupted fine-tune ran with --seed \"12345\", now \"7\""),
            std::string::npos)
      << other.output;
  const auto reinit = run_shell(command(out) + "--reinit-layers 1");
  EXPECT_EQ(reinit.exit_code, 1) << reinit.output;
  EXPECT_NE(reinit.output.find("the interrupted fine-tune ran with --reinit-layers 0, now 1"),
            std::string::npos)
      << reinit.output;
  // A state written before --reinit-layers existed (no such field) ran with 0: it continues.
  nlohmann::json state = testing::read_json(out + "/resume/state.json");
  ASSERT_EQ(state["options"].erase("reinit-layers"), 1u);
  testing::write_file(out + "/resume/state.json", state.dump());
  const auto resumed = run_shell(command(out));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("finetune: resumed at epoch "), std::string::npos)
      << resumed.output;
  EXPECT_FALSE(fs::exists(out + "/resume"));
  // Epoch by epoch as the uninterrupted run: the first epoch from the first call, the rest from
  // the resumed one; the same best epoch, dev metrics and predictions.
  std::vector<std::string> joined = epoch_lines(first);
  for (const auto& line : epoch_lines(resumed.output)) joined.push_back(line);
  EXPECT_EQ(joined, epoch_lines(whole.output));
  const auto a = testing::read_json(whole_out + "/results.json");
  const auto b = testing::read_json(out + "/results.json");
  EXPECT_EQ(a["dev"], b["dev"]);
  EXPECT_EQ(a["best_epoch"], b["best_epoch"]);
  ASSERT_TRUE(fs::exists(out + "/dev_predictions.tsv"));
  EXPECT_EQ(testing::read_file(whole_out + "/dev_predictions.tsv"),
            testing::read_file(out + "/dev_predictions.tsv"));
}

TEST_F(Finetune, CtrlCSavesTheStateAndTheSameCommandResumesToTheUninterruptedResult) {
  testing::write_file(path("long-train.tsv"), synthetic_task(960, 4));
  interrupt_and_resume("", "ctrl-c", "kill -INT $pid", "SIGINT");
}

TEST_F(Finetune, SigusrToMpirunOnTwoRanksSavesTheStateAndResumesToTheUninterruptedResult) {
  // SLURM's --signal=USR1 reaches mpirun, which forwards it to both ranks.
  testing::write_file(path("long-train.tsv"), synthetic_task(960, 4));
  interrupt_and_resume(std::string(ELECTRA_MPIRUN) + " -np 2 -x OMP_NUM_THREADS=1 ", "usr1-2ranks",
                       "kill -USR1 $pid", "SIGUSR1");
}

TEST_F(Finetune, TrainsDataParallelOnTwoRanks) {
  const auto trained = run_shell(std::string(ELECTRA_MPIRUN) + " -np 2 " +
                                 finetune(path("two"), 8) + " --device cpu");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("2 rank(s)"), std::string::npos) << trained.output;
  const auto results = testing::read_json(path("two") + "/results.json");
  std::printf("synthetic task, 2 ranks x 8: dev accuracy %.4f\n",
              results["dev"]["accuracy"].get<double>());
  EXPECT_GE(results["dev"]["accuracy"].get<double>(), 0.9) << results.dump(2);
}

TEST_F(Finetune, ASweepOnTwoRanksTabulatesEveryCellReportsFailuresAndResumes) {
  // Checkpoints: a run directory (the fixture imported as a native checkpoint) and the HF
  // fixture itself, plus their architecture from random weights (--random-baseline); tasks: the
  // synthetic one and one whose training file is missing.
  const std::string run = path("imported");
  ASSERT_EQ(run_shell(kElectra + " import-hf --model " + quote(kFixture) + " --out " + quote(run))
                .exit_code,
            0);
  const std::string out = path("sweep");
  const std::string sweep =
      std::string(ELECTRA_MPIRUN) + " -np 2 " + kElectra + " sweep --checkpoints " + quote(run) +
      "," + quote(kFixture) + " --task syn:" + path("train.tsv") + ":" + path("dev.tsv") + ":" +
      path("test.tsv") + " --task broken:" + path("missing.tsv") + ":" + path("dev.tsv") +
      " --lrs 2e-3,1e-3 --seeds 1,2 --epochs 3 --batch-size 16 --max-seq-len 16 --threads 1 "
      "--random-baseline --out " +
      quote(out);
  const auto first = run_shell(sweep);
  EXPECT_EQ(first.exit_code, 1) << first.output;  // some cells failed
  EXPECT_NE(
      first.output.find("24 cells: 12 finished now (on 2 rank(s)), 0 finished before, 12 failed"),
      std::string::npos)
      << first.output;
  EXPECT_NE(first.output.find("sweep: rank 1: cell "), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("sweep: rank 0: cell "), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("missing.tsv: no such file"), std::string::npos);
  const std::string csv = testing::read_file(out + "/results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 25);
  size_t ok = 0;
  for (size_t at = csv.find(",ok,"); at != std::string::npos; at = csv.find(",ok,", at + 1)) ++ok;
  EXPECT_EQ(ok, 12u) << csv;
  const std::string summary = testing::read_file(out + "/summary.md");
  std::printf("%s", summary.c_str());
  EXPECT_NE(summary.find("| imported-step-00000000 | syn | accuracy |"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("| hf-electra-tiny | syn | accuracy |"), std::string::npos) << summary;
  EXPECT_NE(summary.find("| random-init | syn | accuracy |"), std::string::npos) << summary;
  const auto baseline =
      testing::read_json(out + "/cells/random-init/syn/lr0.001-seed1/results.json");
  EXPECT_TRUE(baseline["random_init"].get<bool>()) << baseline.dump(2);
  EXPECT_NE(summary.find("| 4/4 |"), std::string::npos) << summary;
  EXPECT_NE(summary.find("| 0/4 |"), std::string::npos) << summary;  // the broken task

  // Half done: one finished cell's results removed; the rerun runs only that one (and the
  // broken cells, which have no results) and writes the same table.
  fs::remove(out + "/cells/hf-electra-tiny/syn/lr0.001-seed2/results.json");
  const auto second = run_shell(sweep);
  EXPECT_NE(
      second.output.find("24 cells: 1 finished now (on 2 rank(s)), 11 finished before, 12 failed"),
      std::string::npos)
      << second.output;
  EXPECT_EQ(testing::read_file(out + "/results.csv").size(), csv.size());

  // The same sweep with the top layer drawn afresh: the pretrained cells finished without it are
  // not adopted (the random-init ones, fresh throughout, are); of the two cells left to run, the
  // pretrained one draws its top layer afresh, the random-init one records 0.
  const std::string pretrained_cell = out + "/cells/hf-electra-tiny/syn/lr0.001-seed1";
  const std::string random_cell = out + "/cells/random-init/syn/lr0.001-seed1";
  fs::remove(pretrained_cell + "/results.json");
  fs::remove(random_cell + "/results.json");
  const auto third = run_shell(sweep + " --reinit-layers 1");
  EXPECT_NE(
      third.output.find("24 cells: 2 finished now (on 2 rank(s)), 3 finished before, 19 failed"),
      std::string::npos)
      << third.output;
  EXPECT_NE(third.output.find("holds another fine-tune (--reinit-layers 0)"), std::string::npos)
      << third.output;
  EXPECT_EQ(testing::read_json(pretrained_cell + "/results.json")["settings"]["reinit_layers"], 1);
  EXPECT_EQ(testing::read_json(random_cell + "/results.json")["settings"]["reinit_layers"], 0);
}

TEST_F(Finetune, ReinitLayersFineTunesWithTheTopLayerDrawnAfreshAndRecordsIt) {
  const std::string out = path("reinit");
  const auto trained = run_shell(finetune(out) + "--reinit-layers 1");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  // Not the pretrained start: the first epoch's loss differs from the same run's without it.
  const auto kept = run_shell(finetune(path("reinit-none")));
  ASSERT_EQ(kept.exit_code, 0) << kept.output;
  const auto first_epoch = [](const std::string& output) {
    const size_t at = output.find("epoch 1/8");
    return at == std::string::npos ? std::string() : output.substr(at, output.find('\n', at) - at);
  };
  ASSERT_FALSE(first_epoch(trained.output).empty()) << trained.output;
  EXPECT_NE(first_epoch(trained.output), first_epoch(kept.output));
  const auto results = testing::read_json(out + "/results.json");
  EXPECT_EQ(results["settings"]["reinit_layers"], 1) << results.dump(2);
  EXPECT_EQ(testing::read_json(out + "/best/task.json")["reinit_layers"], 1);
}

TEST_F(Finetune, ASweepHandsTheLargestCellsOutFirstAsRanksBecomeFree) {
  // In the table's order big, small, big2, small2: dealt round-robin, rank 0 ran both big cells
  // and rank 1 both small ones. Handed out largest first as ranks become free, each rank starts
  // with a big one; every cell's result is the one-rank sweep's.
  testing::write_file(path("big.tsv"), synthetic_task(480, 5));
  testing::write_file(path("small.tsv"), synthetic_task(16, 6));
  const auto sweep = [&](const std::string& launcher, const std::string& out) {
    std::string tasks;
    for (const char* task : {"big", "small", "big2", "small2"}) {
      tasks += std::string(" --task ") + task + ":" +
               path(std::string(task).substr(0, std::string(task).find('2')) + ".tsv") + ":" +
               path("dev.tsv");
    }
    return run_shell(launcher + kElectra + " sweep --checkpoints " + quote(kFixture) + tasks +
                     " --lrs 2e-3 --seeds 1 --epochs 2 --batch-size 16 --max-seq-len 16 "
                     "--threads 1 --out " +
                     quote(out));
  };
  const auto two = sweep(std::string(ELECTRA_MPIRUN) + " -np 2 ", path("balanced"));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  const std::regex ran(R"(sweep: rank (\d): cell \d/4 \(hf-electra-tiny, (\w+),)");
  int big_cells[2] = {0, 0}, cells = 0;
  for (std::sregex_iterator it(two.output.begin(), two.output.end(), ran), end; it != end; ++it) {
    ++cells;
    if ((*it)[2].str().rfind("big", 0) == 0) ++big_cells[std::stoi((*it)[1].str())];
  }
  EXPECT_EQ(cells, 4) << two.output;
  EXPECT_EQ(big_cells[0], 1) << two.output;
  EXPECT_EQ(big_cells[1], 1) << two.output;
  EXPECT_FALSE(fs::exists(path("balanced") + "/.sweep-claims"));
  const auto one = sweep("", path("one-rank"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  for (const char* task : {"big", "small", "big2", "small2"}) {
    const std::string cell = std::string("/cells/hf-electra-tiny/") + task + "/lr0.002-seed1";
    EXPECT_EQ(testing::read_json(path("balanced") + cell + "/results.json")["dev"],
              testing::read_json(path("one-rank") + cell + "/results.json")["dev"])
        << task;
  }
}

TEST_F(Finetune, InputThatCannotWorkIsRefused) {
  EXPECT_TRUE(testing::fails_with(run_shell(finetune(path("x1")) + "--task-type ranking"), 2,
                                  "--task-type must be classification, regression, span or token"));
  testing::write_file(path("nolabel.tsv"), "text\nhello\n");
  EXPECT_TRUE(testing::fails_with(run_shell(kElectra + " finetune --model " + quote(kFixture) +
                                            " --train " + quote(path("nolabel.tsv")) + " --dev " +
                                            quote(path("dev.tsv")) + " --out " + quote(path("x2"))),
                                  1, "nolabel.tsv: has no labels"));
  EXPECT_TRUE(testing::fails_with(run_shell(finetune(path("x3")) + "--task-type regression"), 1,
                                  "label 'spam' is not a finite number (regression task)"));
  EXPECT_TRUE(testing::fails_with(run_shell(finetune(path("x5")) + "--reinit-layers 9"), 2,
                                  "--reinit-layers 9: the discriminator has"));
  EXPECT_TRUE(
      testing::fails_with(run_shell(finetune(path("x6")) + "--random-init --reinit-layers 1"), 2,
                          "--reinit-layers must be 0 with --random-init"));
  // A checkpoint folder whose table row would be the random baseline's.
  fs::copy(kFixture, path("random-init"), fs::copy_options::recursive);
  EXPECT_TRUE(testing::fails_with(
      run_shell(kElectra + " sweep --checkpoints " + quote(path("random-init")) +
                " --random-baseline --task syn:" + path("train.tsv") + ":" + path("dev.tsv") +
                " --out " + quote(path("x4"))),
      1, "its table row would be 'random-init'"));
  EXPECT_TRUE(
      testing::fails_with(run_shell(kElectra + " evaluate --model " + quote(path("nowhere")) +
                                    " --data " + quote(path("dev.tsv"))),
                          1, "not a fine-tuned model"));
}

}  // namespace
}  // namespace electra
