// electra finetune / evaluate / export for the per-token task families, end to end on samples of
// the real files (tests/data/README.md): SQuAD v1.1 questions (span), CoNLL-2000 chunking and
// UD English-Atis POS (token), from the tiny HuggingFace fixture pair. What must hold whatever
// the tiny model learns: the loss falls, every question and word gets a prediction in the
// official format, evaluate reproduces the fine-tuner's dev figures (on 1 and 2 ranks), the
// export is the HF class with its head, and bad input is named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "test_util.h"

namespace electra {
namespace {

namespace fs = std::filesystem;
using testing::quote;
using testing::run_shell;
const std::string kElectra = ELECTRA_BINARY;
const std::string kData = ELECTRA_TEST_DATA_DIR;
const std::string kFixture = kData + "/../fixtures/hf-electra-tiny";

nlohmann::json last_json(const std::string& output) {
  return nlohmann::json::parse(output.substr(output.rfind("\n{") + 1));
}

// The train losses of the epoch lines, in order.
std::vector<double> epoch_losses(const std::string& output) {
  std::vector<double> losses;
  const std::regex line("train loss ([0-9.]+)");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), line);
       it != std::sregex_iterator(); ++it) {
    losses.push_back(std::stod((*it)[1]));
  }
  return losses;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  while (!lines.empty() && lines.back().empty()) lines.pop_back();  // the last blank lines
  return lines;
}

class FinetuneFamilies : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = std::make_unique<testing::TempDir>(); }
  std::string path(const std::string& name) const { return *dir_ / name; }
  static std::string finetune(const std::string& type, const std::string& train,
                              const std::string& dev, const std::string& out,
                              const std::string& extra = "",
                              const std::string& sizes = "--max-seq-len 64 --batch-size 16") {
    return kElectra + " finetune --model " + quote(kFixture) + " --task-type " + type +
           " --train " + quote(train) + " --dev " + quote(dev) + " --out " + quote(out) +
           " --threads 1 " + sizes + " " + extra;
  }
  std::unique_ptr<testing::TempDir> dir_;
};

TEST_F(FinetuneFamilies, SquadSpansTrainPredictEveryQuestionEvaluateAndExport) {
  const std::string train = kData + "/squad_sample_train.json";
  const std::string dev = kData + "/squad_sample_dev.json";
  const std::string out = path("span");
  const auto trained = run_shell(finetune("span", train, dev, out,
                                          "--epochs 3 --lr 1e-3 --max-query-len 24 "
                                          "--doc-stride 24"));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("164 train questions -> "), std::string::npos) << trained.output;
  const std::vector<double> losses = epoch_losses(trained.output);
  ASSERT_EQ(losses.size(), 3u) << trained.output;
  EXPECT_LT(losses[2], losses[0] * 0.9) << trained.output;
  const nlohmann::json results = last_json(trained.output);
  EXPECT_EQ(results["task_type"], "span");
  EXPECT_EQ(results["dev"]["total"], 52);

  // predictions.json: every dev question, each answer a piece of its own context.
  const nlohmann::json squad = testing::read_json(dev);
  std::map<std::string, std::string> contexts;
  for (const auto& article : squad["data"]) {
    for (const auto& paragraph : article["paragraphs"]) {
      for (const auto& qa : paragraph["qas"]) contexts[qa["id"]] = paragraph["context"];
    }
  }
  const nlohmann::json predictions = testing::read_json(out + "/predictions.json");
  ASSERT_EQ(predictions.size(), contexts.size());
  for (const auto& [id, answer] : predictions.items()) {
    ASSERT_TRUE(contexts.count(id)) << id;
    EXPECT_NE(contexts[id].find(answer.get<std::string>()), std::string::npos) << id;
  }

  // evaluate: the model on the dev file (1 and 2 ranks), and the predictions file, as the
  // fine-tuner's dev figures.
  const auto evaluated =
      run_shell(kElectra + " evaluate --model " + quote(out) + " --data " + quote(dev) +
                " --predictions " + quote(path("again.json")) + " --threads 1");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  EXPECT_EQ(last_json(evaluated.output), results["dev"]);
  EXPECT_EQ(testing::read_json(path("again.json")), predictions);
  const auto two =
      run_shell(std::string(ELECTRA_MPIRUN) + " -np 2 " + kElectra + " evaluate --model " +
                quote(out) + " --data " + quote(dev) + " --threads 1");
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_EQ(last_json(two.output), results["dev"]);
  const auto scored = run_shell(kElectra + " evaluate --answers " +
                                quote(out + "/predictions.json") + " --data " + quote(dev));
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  EXPECT_EQ(last_json(scored.output), results["dev"]);

  // export: ElectraForQuestionAnswering with qa_outputs.
  const auto exported =
      run_shell(kElectra + " export --checkpoint " + quote(out) + " --out " + quote(path("hf")));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const nlohmann::json config = testing::read_json(path("hf") + "/config.json");
  EXPECT_EQ(config["architectures"][0], "ElectraForQuestionAnswering");
  EXPECT_EQ(config["num_labels"], 2);
  const std::string tensors = testing::read_file(path("hf") + "/model.safetensors");
  EXPECT_NE(tensors.find("\"qa_outputs.weight\""), std::string::npos);
  EXPECT_NE(tensors.find("\"electra.encoder.layer.1.attention.self.query.weight\""),
            std::string::npos);
  // The HF folder loads back and predicts as the model it came from.
  const auto from_hf = run_shell(kElectra + " evaluate --model " + quote(path("hf")) + " --data " +
                                 quote(dev) + " --threads 1");
  ASSERT_EQ(from_hf.exit_code, 0) << from_hf.output;
  EXPECT_EQ(last_json(from_hf.output), results["dev"]);
}

// SQuAD v2.0: every third question of the sample made unanswerable (its answers moved to
// plausible_answers, as the v2.0 files have them).
nlohmann::json as_squad_v2(nlohmann::json squad) {
  squad["version"] = "v2.0";
  int n = 0;
  for (auto& article : squad["data"]) {
    for (auto& paragraph : article["paragraphs"]) {
      for (auto& qa : paragraph["qas"]) {
        const bool impossible = n++ % 3 == 0;
        qa["is_impossible"] = impossible;
        if (impossible)
          qa["plausible_answers"] = qa["answers"], qa["answers"] = nlohmann::json::array();
      }
    }
  }
  return squad;
}

TEST_F(FinetuneFamilies, SquadV2ChoosesTheNullThresholdOnDevAndKeepsIt) {
  testing::write_file(path("train2.json"),
                      as_squad_v2(testing::read_json(kData + "/squad_sample_train.json")).dump());
  testing::write_file(path("dev2.json"),
                      as_squad_v2(testing::read_json(kData + "/squad_sample_dev.json")).dump());
  const std::string out = path("v2");
  const auto trained = run_shell(finetune("span", path("train2.json"), path("dev2.json"), out,
                                          "--epochs 2 --lr 1e-3 --max-query-len 24 "
                                          "--doc-stride 24"));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("SQuAD v2.0"), std::string::npos);
  const nlohmann::json dev = last_json(trained.output)["dev"];
  for (const char* key : {"exact", "f1", "HasAns_f1", "NoAns_f1", "best_f1", "best_f1_thresh"}) {
    EXPECT_TRUE(dev.contains(key)) << key << " " << dev.dump();
  }
  EXPECT_EQ(dev["NoAns_total"], 18);  // 52 questions, every third from the first
  // The threshold chosen on dev is the model's, and the answers at it score best F1.
  const nlohmann::json task = testing::read_json(out + "/best/task.json");
  EXPECT_EQ(task["span"]["null_threshold"], dev["best_f1_thresh"]);
  EXPECT_EQ(dev["null_threshold"], dev["best_f1_thresh"]);
  EXPECT_NEAR(dev["f1"].get<double>(), dev["best_f1"].get<double>(), 1e-9);
  const nlohmann::json predictions = testing::read_json(out + "/predictions.json");
  const auto scored =
      run_shell(kElectra + " evaluate --answers " + quote(out + "/predictions.json") + " --data " +
                quote(path("dev2.json")));
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  EXPECT_EQ(last_json(scored.output)["f1"], dev["f1"]);
  const auto evaluated = run_shell(kElectra + " evaluate --model " + quote(out) + " --data " +
                                   quote(path("dev2.json")) + " --threads 1");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  EXPECT_EQ(last_json(evaluated.output)["f1"], dev["f1"]);
}

TEST_F(FinetuneFamilies, ChunkingLearnsBeyondTheMajorityTagAndWritesConllevalInput) {
  const std::string train = kData + "/conll2000_sample_train.txt";
  const std::string test = kData + "/conll2000_sample_test.txt";
  const std::string out = path("chunk");
  const auto trained =
      run_shell(finetune("token", train, test, out, "--epochs 3 --lr 2e-3 --test " + quote(test)));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const std::vector<double> losses = epoch_losses(trained.output);
  ASSERT_EQ(losses.size(), 3u);
  EXPECT_LT(losses[2], losses[0] * 0.7) << trained.output;
  const nlohmann::json results = last_json(trained.output);
  EXPECT_EQ(results["selection_metric"], "f1");
  // The majority tag of the training file, predicted everywhere, as the floor.
  std::map<std::string, long> counts;
  for (const std::string& line : lines_of(testing::read_file(train))) {
    if (!line.empty()) ++counts[line.substr(line.rfind(' ') + 1)];
  }
  const std::string majority =
      std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      })->first;
  long words = 0, majority_right = 0;
  for (const std::string& line : lines_of(testing::read_file(test))) {
    if (line.empty()) continue;
    ++words;
    majority_right += line.substr(line.rfind(' ') + 1) == majority ? 1 : 0;
  }
  EXPECT_EQ(results["dev"]["words"], words);
  EXPECT_GT(results["dev"]["accuracy"].get<double>(), 100.0 * double(majority_right) / words + 10)
      << results["dev"].dump();
  EXPECT_GT(results["dev"]["f1"].get<double>(), 0);
  EXPECT_EQ(results["test"]["f1"], results["dev"]["f1"]);  // the same file, the best model

  // The predictions: conlleval's input, the input's lines with the predicted tag appended.
  const std::vector<std::string> input = lines_of(testing::read_file(test));
  const std::vector<std::string> output =
      lines_of(testing::read_file(out + "/dev_predictions.txt"));
  ASSERT_EQ(output.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i].empty()) {
      EXPECT_TRUE(output[i].empty()) << i;
      continue;
    }
    EXPECT_EQ(output[i].rfind(input[i] + " ", 0), 0u) << output[i];
    EXPECT_TRUE(counts.count(output[i].substr(output[i].rfind(' ') + 1))) << output[i];
  }
  // conlleval on that file gives the fine-tuner's figures.
  const auto conlleval =
      run_shell(kElectra + " evaluate --conlleval " + quote(out + "/dev_predictions.txt"));
  ASSERT_EQ(conlleval.exit_code, 0) << conlleval.output;
  EXPECT_EQ(last_json(conlleval.output)["f1"], results["dev"]["f1"]);
  const auto exported =
      run_shell(kElectra + " export --checkpoint " + quote(out) + " --out " + quote(path("hf")));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const nlohmann::json config = testing::read_json(path("hf") + "/config.json");
  EXPECT_EQ(config["architectures"][0], "ElectraForTokenClassification");
  EXPECT_EQ(config["num_labels"], counts.size());
  EXPECT_EQ(config["id2label"]["0"], counts.begin()->first);  // sorted tags
  EXPECT_NE(testing::read_file(path("hf") + "/model.safetensors").find("\"classifier.weight\""),
            std::string::npos);
  // Without our task.json (as a model from elsewhere): id2label and the default windows.
  fs::remove(path("hf") + "/task.json");
  const auto from_hf = run_shell(kElectra + " evaluate --model " + quote(path("hf")) + " --data " +
                                 quote(test) + " --threads 1");
  ASSERT_EQ(from_hf.exit_code, 0) << from_hf.output;
  EXPECT_EQ(last_json(from_hf.output)["f1"], results["dev"]["f1"]);
  const auto reexported = run_shell(kElectra + " export --checkpoint " + quote(path("hf")) +
                                    " --out " + quote(path("hf2")));
  ASSERT_EQ(reexported.exit_code, 0) << reexported.output;
  EXPECT_EQ(testing::read_json(path("hf2") + "/config.json")["id2label"], config["id2label"]);
}

TEST_F(FinetuneFamilies, ConlluPosOnTwoRanksKeepsTheFileLayoutAndCountsUnseenTags) {
  const std::string train = kData + "/atis_sample_train.conllu";
  const std::string dev = kData + "/atis_sample_dev.conllu";
  const std::string out = path("pos");
  const auto trained =
      run_shell(std::string(ELECTRA_MPIRUN) + " -np 2 " +
                finetune("token", train, dev, out, "--epochs 2 --lr 2e-3 --device cpu",
                         "--max-seq-len 64 --batch-size 8"));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("conllu tagging (tag column 4)"), std::string::npos);
  EXPECT_NE(trained.output.find("2 rank(s)"), std::string::npos);
  const nlohmann::json results = last_json(trained.output);
  EXPECT_EQ(results["selection_metric"], "accuracy");
  EXPECT_FALSE(results["dev"].contains("f1"));  // POS tags are not chunks
  // Written back: comments kept, 10 fields, only the UPOS column changed.
  const std::vector<std::string> input = lines_of(testing::read_file(dev));
  const std::vector<std::string> output =
      lines_of(testing::read_file(out + "/dev_predictions.txt"));
  ASSERT_EQ(output.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i].empty() || input[i][0] == '#') {
      EXPECT_EQ(output[i], input[i]);
      continue;
    }
    const auto fields = [](const std::string& line) {
      std::vector<std::string> out;
      std::istringstream in(line);
      for (std::string f; std::getline(in, f, '\t');) out.push_back(f);
      return out;
    };
    const std::vector<std::string> a = fields(input[i]), b = fields(output[i]);
    ASSERT_EQ(b.size(), 10u) << output[i];
    for (size_t f = 0; f < 10; ++f) {
      if (f != 3) EXPECT_EQ(a[f], b[f]) << output[i];
    }
  }
  // A file of another task.
  EXPECT_TRUE(
      testing::fails_with(run_shell(kElectra + " evaluate --model " + quote(out) + " --data " +
                                    quote(kData + "/squad_sample_dev.json") + " --threads 1"),
                          1, "a JSON (SQuAD) file, but " + out + " was fine-tuned for token"));
  // A tag unseen in training: counted as an error, not a crash.
  std::string changed = testing::read_file(dev);
  changed.replace(changed.find("\tPRON\t"), 6, "\tNEWTAG\t");
  testing::write_file(path("changed.conllu"), changed);
  const auto evaluated = run_shell(kElectra + " evaluate --model " + quote(out) + " --data " +
                                   quote(path("changed.conllu")) + " --threads 1");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  EXPECT_EQ(last_json(evaluated.output)["unknown_tags"], 1);
}

TEST_F(FinetuneFamilies, ASweepTakesEveryFamilyAndWritesTheGlueTable) {
  // A GLUE folder with one task in SST-2's layout (positive when the text has "prize").
  fs::create_directories(path("glue/SST-2"));
  for (const char* split : {"train", "dev"}) {
    std::string text = "sentence\tlabel\n";
    for (int i = 0; i < 96; ++i) {
      text += std::string(i % 2 ? "a calm river" : "win a prize") + " number " +
              std::to_string(i % 7) + "\t" + (i % 2 ? "0" : "1") + "\n";
    }
    testing::write_file(path("glue/SST-2/" + std::string(split) + ".tsv"), text);
  }
  const std::string out = path("sweep");
  const auto swept = run_shell(
      std::string(ELECTRA_MPIRUN) + " -np 2 " + kElectra + " sweep --checkpoints " +
      quote(kFixture) + " --glue " + quote(path("glue")) + " --task squad:" + kData +
      "/squad_sample_train.json:" + kData + "/squad_sample_dev.json --task pos:" + kData +
      "/atis_sample_train.conllu:" + kData +
      "/atis_sample_dev.conllu --lrs 1e-3 --seeds 1 --epochs 1 --batch-size 16 --max-seq-len 64 "
      "--max-query-len 24 --threads 1 --out " +
      quote(out));
  ASSERT_EQ(swept.exit_code, 0) << swept.output;
  const std::string summary = testing::read_file(out + "/summary.md");
  EXPECT_NE(summary.find("| hf-electra-tiny | squad | f1 |"), std::string::npos) << summary;
  EXPECT_NE(summary.find("exact_match "), std::string::npos) << summary;
  EXPECT_NE(summary.find("| hf-electra-tiny | pos | accuracy |"), std::string::npos) << summary;
  EXPECT_NE(summary.find("| hf-electra-tiny | SST-2 | accuracy |"), std::string::npos) << summary;
  // The GLUE table: one column (SST-2, x 100) and the score, their average: the same number.
  const size_t table = summary.find("## GLUE (dev)");
  ASSERT_NE(table, std::string::npos) << summary;
  const std::string glue_table = summary.substr(table);
  std::smatch row;
  ASSERT_TRUE(std::regex_search(glue_table, row,
                                std::regex("\\| hf-electra-tiny \\| ([0-9.]+) \\| ([0-9.]+) \\|")))
      << summary;
  ASSERT_EQ(row.size(), 3u) << summary;
  EXPECT_EQ(row[1].str(), row[2].str());
  const nlohmann::json sst =
      testing::read_json(out + "/cells/hf-electra-tiny/SST-2/lr0.001-seed1/results.json");
  char expected[32];
  std::snprintf(expected, sizeof expected, "%.1f", 100 * sst["dev"]["accuracy"].get<double>());
  EXPECT_EQ(row[1].str(), expected);
  // A task name that would leave --out is refused.
  EXPECT_TRUE(
      testing::fails_with(run_shell(kElectra + " sweep --checkpoints " + quote(kFixture) +
                                    " --task ..:" + kData + "/atis_sample_train.conllu:" + kData +
                                    "/atis_sample_dev.conllu --out " + quote(path("x"))),
                          2, "must be letters, digits"));
}

TEST_F(FinetuneFamilies, AGlueFolderInGluesOwnLayoutRunsWhole) {
  // Every GLUE task's train and dev files as GLUE lays them out (headers, columns, label words,
  // MRPC's byte-order mark, CoLA without a header, MNLI's dev_matched with five annotator labels,
  // WNLI's 0/1 under RTE's header, a QQP question holding a quoted line break); the texts are
  // made up, 12 rows each.
  const auto rows = [](const std::string& header, const std::function<std::string(int)>& row) {
    std::string text = header.empty() ? "" : header + "\n";
    for (int i = 0; i < 12; ++i) text += row(i) + "\n";
    return text;
  };
  const auto words = [](int i) { return std::string(i % 2 ? "a calm river" : "win a prize"); };
  const std::string parses = "(a)\t(b)\t(A)\t(B)\t";
  std::map<std::string, std::string> files;
  files["CoLA/train.tsv"] = rows("", [&](int i) {
    return "gj04\t" + std::to_string(i % 2) + "\t\t" + words(i) + " " + std::to_string(i) + ".";
  });
  files["SST-2/train.tsv"] =
      rows("sentence\tlabel", [&](int i) { return words(i) + " \t" + std::to_string(i % 2); });
  files["MRPC/train.tsv"] =
      rows("\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String", [&](int i) {
        return std::to_string(i % 2) + "\t" + std::to_string(1000 + i) + "\t" +
               std::to_string(2000 + i) + "\t" + words(i) + " .\t\" " + words(i + 1) + " .";
      });
  files["STS-B/train.tsv"] =
      rows("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore",
           [&](int i) {
             return std::to_string(i) + "\tmain-captions\tMSRvid\t2012test\t000" +
                    std::to_string(i % 10) + "\tnone\tnone\t" + words(i) + ".\t" + words(i / 2) +
                    ".\t" + std::to_string(i % 6) + ".000";
           });
  files["QQP/train.tsv"] = rows("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate", [&](int i) {
    const std::string q1 = i == 5 ? "\"" + words(i) + "?\n\"" : words(i) + "?";
    return std::to_string(i) + "\t" + std::to_string(2 * i) + "\t" + std::to_string(2 * i + 1) +
           "\t" + q1 + "\t" + words(i / 2) + "?\t" + std::to_string(i % 2);
  });
  const char* nli[] = {"entailment", "neutral", "contradiction"};
  files["MNLI/train.tsv"] = rows(
      "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
      "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label",
      [&](int i) {
        return std::to_string(i) + "\t" + std::to_string(i) + "\t" + std::to_string(i) +
               "n\tgovernment\t" + parses + words(i) + ".\t" + words(i / 2) + ".\t" + nli[i % 3] +
               "\t" + nli[i % 3];
      });
  files["MNLI/dev_matched.tsv"] = rows(
      "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
      "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\t"
      "label4\tlabel5\tgold_label",
      [&](int i) {
        std::string annotators;
        for (int k = 0; k < 5; ++k) annotators += std::string(nli[(i + k / 4) % 3]) + "\t";
        return std::to_string(i) + "\t" + std::to_string(i) + "\t" + std::to_string(i) +
               "n\tslate\t" + parses + words(i) + ".\t" + words(i / 2) + ".\t" + annotators +
               nli[i % 3];
      });
  files["QNLI/train.tsv"] = rows("index\tquestion\tsentence\tlabel", [&](int i) {
    return std::to_string(i) + "\t" + words(i) + "?\t" + words(i / 2) + ".\t" +
           (i % 2 ? "entailment" : "not_entailment");
  });
  files["RTE/train.tsv"] = rows("index\tsentence1\tsentence2\tlabel", [&](int i) {
    return std::to_string(i) + "\t" + words(i) + ".\t" + words(i / 2) + ".\t" +
           (i % 2 ? "entailment" : "not_entailment");
  });
  files["WNLI/train.tsv"] = rows("index\tsentence1\tsentence2\tlabel", [&](int i) {
    return std::to_string(i) + "\t" + words(i) + ".\t" + words(i / 2) + ".\t" +
           std::to_string(i % 2);
  });
  for (const auto& [name, text] : std::map<std::string, std::string>(files)) {
    fs::create_directories(path("fullglue/" + name.substr(0, name.find('/'))));
    testing::write_file(path("fullglue/" + name), text);
    if (name.find("train.tsv") != std::string::npos && name.rfind("MNLI", 0) != 0) {
      testing::write_file(path("fullglue/" + name.substr(0, name.find('/')) + "/dev.tsv"), text);
    }
  }
  const std::string out = path("fullglue-sweep");
  const auto swept =
      run_shell(std::string(ELECTRA_MPIRUN) + " -np 2 " + kElectra + " sweep --checkpoints " +
                quote(kFixture) + " --glue " + quote(path("fullglue")) +
                " --lrs 1e-3 --seeds 1 --epochs 1 --batch-size 4 --max-seq-len 16 "
                "--threads 1 --out " +
                quote(out));
  ASSERT_EQ(swept.exit_code, 0) << swept.output;
  EXPECT_NE(swept.output.find("9 cells: 9 finished now"), std::string::npos) << swept.output;
  const std::string summary = testing::read_file(out + "/summary.md");
  for (const char* task : {"CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE"}) {
    EXPECT_NE(summary.find(std::string("| ") + task + " |"), std::string::npos) << task << "\n"
                                                                                << summary;
  }
  // WNLI runs (its own labels), and stays out of the GLUE score as in BERT's and ELECTRA's tables.
  const auto wnli =
      testing::read_json(out + "/cells/hf-electra-tiny/WNLI/lr0.001-seed1/results.json");
  EXPECT_EQ(wnli["task"], "wnli") << wnli.dump();
  const auto qqp =
      testing::read_json(out + "/cells/hf-electra-tiny/QQP/lr0.001-seed1/results.json");
  EXPECT_EQ(qqp["throughput"]["train_rows"], 12) << qqp.dump();  // the quoted row is one
}

TEST_F(FinetuneFamilies, BadFilesAreNamedWithTheirLineOrQuestion) {
  const std::string squad = kData + "/squad_sample_train.json";
  testing::write_file(path("broken.json"), testing::read_file(squad).substr(0, 5000));
  EXPECT_TRUE(
      testing::fails_with(run_shell(finetune("span", path("broken.json"), squad, path("x1"))), 1,
                          path("broken.json") + ": not valid JSON"));
  testing::write_file(path("bad.txt"), "Confidence NN B-NP\nin IN\n");
  EXPECT_TRUE(testing::fails_with(
      run_shell(finetune("token", path("bad.txt"), path("bad.txt"), path("x2"))), 1,
      path("bad.txt") + ":2"));
  // An answer that is not at its answer_start: counted and skipped for training, not a crash.
  std::string moved = testing::read_file(squad);
  const std::string first_start = "\"answer_start\": 177";  // the first question's answer
  const size_t at = moved.find(first_start);
  ASSERT_NE(at, std::string::npos);
  moved.replace(at, first_start.size(), "\"answer_start\": 178");
  testing::write_file(path("moved.json"), moved);
  const auto skipped = run_shell(finetune("span", path("moved.json"), squad, path("x4"),
                                          "--epochs 1 --max-query-len 24 --doc-stride 32"));
  EXPECT_EQ(skipped.exit_code, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("1 skipped: answer text not at answer_start"), std::string::npos)
      << skipped.output;
  // A window longer than the model's positions.
  EXPECT_TRUE(testing::fails_with(
      run_shell(finetune("span", squad, squad, path("x3"), "", "--max-seq-len 512")), 2,
      "--max-seq-len 512 is more than the model's 64 positions"));
  EXPECT_TRUE(testing::fails_with(run_shell(kElectra + " evaluate --answers " +
                                            quote(path("bad.txt")) + " --data " + quote(squad)),
                                  1, path("bad.txt") + ": not valid JSON"));
}

}  // namespace
}  // namespace electra
