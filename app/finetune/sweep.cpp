#include "app/finetune/sweep.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "app/finetune/finetuner.h"
#include "app/finetune/sweep_schedule.h"
#include "app/finetune/task_encoding.h"
#include "app/train/checkpoint_files.h"
#include "app/train/model_source.h"
#include "app/train/rank_device.h"
#include "data/atomic_file.h"
#include "data/json_fields.h"
#include "data/task_reader.h"

namespace electra::finetune {

namespace fs = std::filesystem;

namespace {

struct Cell {
  std::string checkpoint;
  std::string label;  // the table's row: checkpoint_label(checkpoint) or kRandomInit
  const SweepTask* task;
  double lr;
  uint64_t seed;
  bool random_init;
  int reinit_layers;  // the sweep's --reinit-layers; 0 for random-init cells
  std::string dir;    // OUT/cells/<label>/<task>/lr<lr>-seed<seed>
};

const char* const kRandomInit = "random-init";

std::string lr_text(double lr) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", lr);
  return text;
}

// A readable, unique folder name for a checkpoint: "<run>-step-00000600" or the folder name.
std::string checkpoint_label(const std::string& path) {
  const fs::path p = fs::path(path).lexically_normal();
  const fs::path clean = p.filename().empty() ? p.parent_path() : p;
  const std::string name = clean.filename().string();
  if (name.rfind("step-", 0) == 0) {
    return clean.parent_path().parent_path().filename().string() + "-" + name;
  }
  // A folder under OUT/cells/: never one that leads elsewhere.
  return name.empty() || name == "." || name == ".." ? "checkpoint" : name;
}

std::string cell_dir(const SweepConfig& config, const std::string& label, const SweepTask& task,
                     double lr, uint64_t seed) {
  return (fs::path(config.out_dir) / "cells" / label / task.name /
          ("lr" + lr_text(lr) + "-seed" + std::to_string(seed)))
      .string();
}

// The metric a cell is judged by, and its value, from a finetune results.json.
std::pair<std::string, double> main_dev_metric(const nlohmann::json& results) {
  const std::string metric = results.at("selection_metric");
  return {metric, results.at("dev").at(metric).get<double>()};
}

// "" when a finished cell's results.json is this cell's (its task files, learning rate, seed and
// model); else what differs. A cell of another sweep's row (KNOW_MODEL false) is not checked
// for its model.
std::string cell_mismatch(const Cell& cell, const nlohmann::json& results, bool know_model) {
  if (!results.is_object() || !results.contains("settings") || !results["settings"].is_object()) {
    return "no settings recorded (not written by electra sweep or finetune of this version)";
  }
  const nlohmann::json& settings = results["settings"];
  const auto differs = [&](const char* key, const nlohmann::json& wanted) {
    return !settings.contains(key) || settings[key] != wanted;
  };
  const auto said = [&](const char* key) {
    return settings.contains(key) ? settings[key].dump() : std::string("nothing");
  };
  if (differs("train", cell.task->train)) return "trained on " + said("train");
  if (differs("dev", cell.task->dev)) return "evaluated on " + said("dev");
  if (differs("learning_rate", cell.lr)) return "learning rate " + said("learning_rate");
  if (differs("seed", cell.seed)) return "seed " + said("seed");
  // Written since --reinit-layers exists; earlier cells kept every layer.
  const nlohmann::json drawn =
      settings.contains("reinit_layers") ? settings["reinit_layers"] : nlohmann::json(0);
  if (drawn != cell.reinit_layers) return "--reinit-layers " + drawn.dump();
  if (know_model) {
    if (!results.contains("random_init") || results["random_init"] != cell.random_init) {
      return cell.random_init ? "not from random weights" : "from random weights";
    }
    if (!results.contains("model") || results["model"] != cell.checkpoint) {
      return "model " + (results.contains("model") ? results["model"].dump() : "unknown");
    }
  }
  return "";
}

// Why a cell folder that holds a results.json is not this cell's, as the sweep says it.
std::string foreign_cell_text(const Cell& cell, const std::string& mismatch) {
  return cell.dir + " holds another fine-tune (" + mismatch + "); move it away to run this cell";
}

// What a cell is expected to cost, to hand out the largest first: its training file's bytes
// times its epochs; 0 for a cell finished before (it is only read) or a file that cannot be read
// (it fails at once).
double expected_cost(const SweepConfig& config, const Cell& cell) {
  std::error_code error;
  if (fs::exists(fs::path(cell.dir) / "results.json", error)) return 0;
  const auto bytes = fs::file_size(cell.task->train, error);
  if (error) return 0;
  return double(bytes) * double(cell.task->epochs > 0 ? cell.task->epochs : config.epochs);
}

// A task's type: given, or from its training file.
std::string task_type_of(const SweepTask& task) {
  if (!task.type.empty()) return task.type;
  const std::string extension = fs::path(task.train).extension().string();
  if (extension == ".json") return "span";
  if (extension == ".conllu" || extension == ".conll") return "token";
  return data::read_task_file(task.train, task.format).format == "sts-b" ? "regression"
                                                                         : "classification";
}

// The figures a cell's table row shows beside its metric (span: exact match and F1; tagging:
// accuracy and chunk F1; sentences: accuracy, F1, correlations), those present.
const char* const kShownFigures[] = {"exact_match",   "f1",      "accuracy",
                                     "matthews_corr", "pearson", "spearman"};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// One CSV row per cell from what its folder holds (finished, failed or missing).
nlohmann::json cell_row(const Cell& cell, bool know_model) {
  nlohmann::json row = {
      {"checkpoint", cell.label}, {"task", cell.task->name}, {"lr", cell.lr},
      {"seed", cell.seed},        {"status", "missing"},     {"metric", ""},
      {"dev", nullptr},           {"test", nullptr},         {"figures", nlohmann::json::object()}};
  const fs::path results = fs::path(cell.dir) / "results.json";
  const fs::path error = fs::path(cell.dir) / "error.txt";
  if (fs::exists(results)) {
    const auto json = data::read_json_file(results.string(), "missing");
    if (const std::string mismatch = cell_mismatch(cell, json, know_model); !mismatch.empty()) {
      row["status"] = "failed: " + foreign_cell_text(cell, mismatch);
      return row;
    }
    const auto [metric, value] = main_dev_metric(json);
    row["status"] = "ok", row["metric"] = metric, row["dev"] = value;
    nlohmann::json figures = nlohmann::json::object();
    for (const char* key : kShownFigures) {
      if (json["dev"].contains(key) && json["dev"][key].is_number())
        figures[key] = json["dev"][key];
    }
    row["figures"] = figures;
    if (json.contains("test") && json["test"].contains(metric)) row["test"] = json["test"][metric];
  } else if (fs::exists(error)) {
    std::ifstream in(error);
    std::string first;
    std::getline(in, first);
    row["status"] = "failed: " + first;
  }
  return row;
}

std::string csv_field(const nlohmann::json& value) {
  std::string text = value.is_null()     ? ""
                     : value.is_string() ? value.get<std::string>()
                                         : value.dump();
  if (text.find_first_of(",\"\n") != std::string::npos) {
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  }
  return text;
}

// "exact_match 12.3400; f1 20.1000" from a figures object.
std::string figures_text(const nlohmann::json& figures) {
  std::string text;
  for (const auto& [key, value] : figures.items()) {
    char number[32];
    std::snprintf(number, sizeof number, "%.4f", value.get<double>());
    text += (text.empty() ? "" : "; ") + key + " " + number;
  }
  return text;
}

void write_reports(const SweepConfig& config, const std::vector<std::string>& labels,
                   const std::vector<nlohmann::json>& rows) {
  std::string csv = "checkpoint,task,lr,seed,status,metric,dev,test,dev_figures\n";
  for (const auto& row : rows) {
    csv += csv_field(row["checkpoint"]) + "," + csv_field(row["task"]) + "," +
           lr_text(row["lr"].get<double>()) + "," + csv_field(row["seed"]) + "," +
           csv_field(row["status"]) + "," + csv_field(row["metric"]) + "," + csv_field(row["dev"]) +
           "," + csv_field(row["test"]) + "," + csv_field(figures_text(row["figures"])) + "\n";
  }
  data::write_file_atomically((fs::path(config.out_dir) / "results.csv").string(), csv);

  // Per (checkpoint, task): the median over seeds of each lr; the best lr by that median.
  std::ostringstream md;
  md << "# Evaluation sweep\n\nMedian over seeds (" << config.seeds.size()
     << ") of the dev metric for each learning rate, and the test metric's median at the best "
        "one. Failed or missing cells are left out of the medians and counted.\n\n"
     << "| checkpoint | task | metric | ";
  for (double lr : config.learning_rates) md << "lr " << lr_text(lr) << " | ";
  md << "best lr | dev (median) | test (median) | dev figures at the best lr (medians) | cells ok "
        "|\n|---|---|---|";
  for (size_t i = 0; i < config.learning_rates.size(); ++i) md << "---|";
  md << "---|---|---|---|---|\n";
  // (checkpoint, task) -> the best lr's median dev metric, for the GLUE table.
  std::map<std::pair<std::string, std::string>, double> best_of;
  const auto format = [](double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", value);
    return std::string(text);
  };
  for (const auto& checkpoint : labels) {
    for (const auto& task : config.tasks) {
      std::string metric;
      double best = -1e300, best_lr = 0, best_test = 0;
      bool any = false, best_has_test = false;
      nlohmann::json best_figures = nlohmann::json::object();
      int ok = 0, total = 0;
      std::vector<std::string> cells;
      for (double lr : config.learning_rates) {
        std::vector<double> dev, test;
        std::map<std::string, std::vector<double>> figures;
        for (const auto& row : rows) {
          if (row["checkpoint"] != checkpoint || row["task"] != task.name || row["lr"] != lr) {
            continue;
          }
          ++total;
          if (row["status"] != "ok") continue;
          ++ok, metric = row["metric"];
          dev.push_back(row["dev"].get<double>());
          if (!row["test"].is_null()) test.push_back(row["test"].get<double>());
          for (const auto& [key, value] : row["figures"].items()) {
            figures[key].push_back(value.get<double>());
          }
        }
        if (dev.empty()) {
          cells.push_back("-");
          continue;
        }
        const double value = median(dev);
        cells.push_back(format(value));
        if (value > best) {
          best = value, best_lr = lr, any = true;
          best_has_test = !test.empty();
          if (best_has_test) best_test = median(test);
          best_figures = nlohmann::json::object();
          for (const auto& [key, values] : figures) best_figures[key] = median(values);
        }
      }
      md << "| " << checkpoint << " | " << task.name << " | " << (metric.empty() ? "-" : metric)
         << " | ";
      for (const auto& c : cells) md << c << " | ";
      md << (any ? lr_text(best_lr) : "-") << " | " << (any ? format(best) : "-") << " | "
         << (best_has_test ? format(best_test) : "-") << " | "
         << (any ? figures_text(best_figures) : "-") << " | " << ok << "/" << total << " |\n";
      if (any) best_of[{checkpoint, task.name}] = best;
    }
  }
  // The paper's GLUE table: each GLUE task's median dev figure at its best lr (x 100) and the
  // GLUE score, their average (only for rows with every task).
  std::vector<const SweepTask*> glue;
  for (const auto& task : config.tasks) {
    if (task.glue) glue.push_back(&task);
  }
  if (!glue.empty()) {
    md << "\n## GLUE (dev)\n\nThe median over seeds at the best learning rate, x 100: "
          "MCC for CoLA, (Pearson + Spearman) / 2 for STS-B, (F1 + accuracy) / 2 for MRPC and "
          "QQP, accuracy otherwise; the GLUE score is their average.\n\n| checkpoint | ";
    for (const auto* task : glue) md << task->name << " | ";
    md << "GLUE score |\n|---|";
    for (size_t i = 0; i <= glue.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& checkpoint : labels) {
      md << "| " << checkpoint << " | ";
      double sum = 0;
      bool complete = true;
      for (const auto* task : glue) {
        const auto found = best_of.find({checkpoint, task->name});
        if (found == best_of.end()) {
          md << "- | ";
          complete = false;
          continue;
        }
        char text[32];
        std::snprintf(text, sizeof text, "%.1f", 100 * found->second);
        md << text << " | ";
        sum += 100 * found->second;
      }
      char score[32] = "-";
      if (complete) std::snprintf(score, sizeof score, "%.1f", sum / double(glue.size()));
      md << score << " |\n";
    }
  }
  data::write_file_atomically((fs::path(config.out_dir) / "summary.md").string(), md.str());
}

}  // namespace

SweepTask parse_sweep_task(const std::string& spec) {
  std::vector<std::string> parts;
  std::stringstream stream(spec);
  for (std::string part; std::getline(stream, part, ':');) parts.push_back(part);
  if (parts.size() < 3 || parts.size() > 4 || parts[0].empty() || parts[1].empty() ||
      parts[2].empty()) {
    throw std::invalid_argument("--task " + spec +
                                ": expected NAME[@TYPE]:TRAIN:DEV[:TEST] (TYPE: classification, "
                                "regression, span or token)");
  }
  SweepTask task{parts[0], parts[1], parts[2], parts.size() == 4 ? parts[3] : ""};
  // A path holding ':' is cut apart here: say so, rather than read its pieces as other files.
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    std::error_code error;
    if (!fs::exists(parts[i], error) && fs::exists(parts[i] + ":" + parts[i + 1], error)) {
      throw std::invalid_argument("--task " + spec + ": '" + parts[i] + ":" + parts[i + 1] +
                                  "' holds ':', which separates the fields here; link or "
                                  "rename the file");
    }
  }
  if (const size_t at = task.name.find('@'); at != std::string::npos) {
    task.type = task.name.substr(at + 1), task.name = task.name.substr(0, at);
    task_type_from(task.type);  // throws naming --task-type's choices
  }
  const bool plain = std::all_of(task.name.begin(), task.name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (task.name.empty() || !plain || task.name == "." || task.name == "..") {
    throw std::invalid_argument("--task " + spec + ": the name '" + task.name +
                                "' must be letters, digits, '.', '_' or '-' (it names a folder "
                                "under --out)");
  }
  return task;
}

std::vector<SweepTask> glue_tasks(const std::string& dir) {
  struct Known {
    const char* name;
    const char* type;
    long long epochs;
    const char* metric;
    const char* dev;
    const char* format;  // each file read in the task's own layout (WNLI's header is RTE's)
  };
  const Known known[] = {{"CoLA", "classification", 0, "matthews_corr", "dev.tsv", "cola"},
                         {"SST-2", "classification", 0, "accuracy", "dev.tsv", "sst-2"},
                         {"MRPC", "classification", 0, "f1_accuracy_mean", "dev.tsv", "mrpc"},
                         {"STS-B", "regression", 10, "pearson_spearman_mean", "dev.tsv", "sts-b"},
                         {"QQP", "classification", 0, "f1_accuracy_mean", "dev.tsv", "qqp"},
                         {"MNLI", "classification", 0, "accuracy", "dev_matched.tsv", "mnli"},
                         {"QNLI", "classification", 0, "accuracy", "dev.tsv", "qnli"},
                         {"RTE", "classification", 10, "accuracy", "dev.tsv", "rte"},
                         {"WNLI", "classification", 0, "accuracy", "dev.tsv", "wnli"}};
  std::vector<SweepTask> tasks;
  for (const Known& k : known) {
    const fs::path folder = fs::path(dir) / k.name;
    const fs::path train = folder / "train.tsv", dev = folder / k.dev;
    if (!fs::is_regular_file(train) || !fs::is_regular_file(dev)) continue;
    SweepTask task{k.name, train.string(), dev.string(), ""};
    task.type = k.type, task.epochs = k.epochs, task.metric = k.metric, task.format = k.format;
    task.glue = std::string(k.name) != "WNLI";  // BERT's and ELECTRA's GLUE figures leave it out
    tasks.push_back(task);
  }
  if (tasks.empty()) {
    throw std::runtime_error(dir +
                             ": no GLUE task found (looked for CoLA/, SST-2/, MRPC/, STS-B/, "
                             "QQP/, MNLI/, QNLI/, RTE/, WNLI/ each with train.tsv and dev.tsv)");
  }
  return tasks;
}

std::vector<std::string> expand_checkpoints(const std::vector<std::string>& paths) {
  std::vector<std::string> expanded;
  for (const auto& path : paths) {
    const auto complete = train::complete_checkpoints(path);
    if (complete.empty()) {
      expanded.push_back(path);
    } else {
      expanded.insert(expanded.end(), complete.begin(), complete.end());
    }
  }
  return expanded;
}

SweepOutcome run_sweep(const SweepConfig& config, dist::Communicator& communicator) {
  std::vector<Cell> cells;
  const auto add_cells = [&](const std::string& checkpoint, const std::string& label,
                             bool random_init) {
    for (const auto& task : config.tasks) {
      for (double lr : config.learning_rates) {
        for (uint64_t seed : config.seeds) {
          cells.push_back({checkpoint, label, &task, lr, seed, random_init,
                           random_init ? 0 : config.reinit_layers,
                           cell_dir(config, label, task, lr, seed)});
        }
      }
    }
  };
  // Rank 0's list, so every rank runs the same cells while a run is still writing checkpoints.
  const nlohmann::json listed = nlohmann::json::parse(communicator.broadcast_from_root(
      communicator.is_root() ? nlohmann::json(expand_checkpoints(config.checkpoints)).dump()
                             : std::string()));
  const auto checkpoints = listed.get<std::vector<std::string>>();
  for (size_t i = 0; i < checkpoints.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (checkpoint_label(checkpoints[i]) == checkpoint_label(checkpoints[j])) {
        throw std::invalid_argument(checkpoints[j] + " and " + checkpoints[i] +
                                    " would share the table row '" +
                                    checkpoint_label(checkpoints[i]) +
                                    "' (and its cells); give them folders of different names");
      }
    }
  }
  for (const auto& checkpoint : checkpoints) {
    if (config.random_baseline && checkpoint_label(checkpoint) == kRandomInit) {
      throw std::invalid_argument(checkpoint + ": its table row would be '" + kRandomInit +
                                  "', the --random-baseline's; rename the folder");
    }
  }
  for (const auto& checkpoint : checkpoints)
    add_cells(checkpoint, checkpoint_label(checkpoint), false);
  if (config.random_baseline && !checkpoints.empty())
    add_cells(checkpoints.front(), kRandomInit, true);
  SweepOutcome outcome;
  outcome.cells = int(cells.size());
  auto alone = dist::make_single_process_communicator();
  // Cells train alone (no NCCL), so a node's ranks may share its GPUs.
  const torch::Device device =
      train::device_for(communicator, config.device, /*ranks_share_gpus=*/true);
  nlohmann::json mine = nlohmann::json::array();
  std::vector<double> costs;
  for (const Cell& cell : cells) costs.push_back(expected_cost(config, cell));
  for (size_t i : largest_first(costs)) {
    try {
      if (!claim_cell(config.out_dir, i)) continue;
    } catch (const std::exception& e) {  // the others take the cells left
      std::printf("sweep: %s%s\n", dist::rank_prefix(communicator).c_str(), e.what());
      std::fflush(stdout);
      ++outcome.failed;
      break;
    }
    const Cell& cell = cells[i];
    const std::string where = "cell " + std::to_string(i + 1) + "/" + std::to_string(cells.size()) +
                              " (" + cell.label + ", " + cell.task->name + ", lr " +
                              lr_text(cell.lr) + ", seed " + std::to_string(cell.seed) + ")";
    const auto start = std::chrono::steady_clock::now();
    std::string status;
    const fs::path earlier = fs::path(cell.dir) / "results.json";
    if (fs::exists(earlier)) {
      const std::string mismatch = cell_mismatch(
          cell, data::read_json_file(earlier.string(), "cannot read the cell's results"), true);
      if (mismatch.empty()) {
        ++outcome.skipped;
        continue;
      }
      // Not this cell's: left as it is, and this cell not run.
      std::printf("sweep: %s%s: FAILED: %s\n", dist::rank_prefix(communicator).c_str(),
                  where.c_str(), foreign_cell_text(cell, mismatch).c_str());
      std::fflush(stdout);
      ++outcome.failed;
      mine.push_back(i);
      continue;
    }
    try {
      fs::create_directories(cell.dir);
      fs::remove(fs::path(cell.dir) / "error.txt");
      train::ModelSource source = train::load_model_source(cell.checkpoint, config.vocab);
      if (source.vocab_path.empty()) throw std::runtime_error(source.path + " has no vocab.txt");
      FinetuneConfig finetune_config;
      finetune_config.model_dir = cell.checkpoint;
      finetune_config.train_path = cell.task->train;
      finetune_config.dev_path = cell.task->dev;
      finetune_config.test_path = cell.task->test;
      finetune_config.task_type = task_type_of(*cell.task);
      finetune_config.format = cell.task->format;
      finetune_config.selection_metric = cell.task->metric;
      finetune_config.doc_stride = config.doc_stride;
      finetune_config.max_query_len = config.max_query_len;
      finetune_config.out_dir = cell.dir;
      finetune_config.epochs = cell.task->epochs > 0 ? cell.task->epochs : config.epochs;
      finetune_config.batch_size = config.batch_size;
      finetune_config.max_seq_len = config.max_seq_len;
      finetune_config.learning_rate = cell.lr, finetune_config.seed = cell.seed;
      finetune_config.layer_decay = config.layer_decay;
      finetune_config.random_init = cell.random_init;
      finetune_config.reinit_layers = cell.reinit_layers;
      finetune_config.quiet = true, finetune_config.keep_model = false;
      finetune_config.placed_on = device;
      const nlohmann::json results =
          finetune(finetune_config, *source.model, source.vocab_path, *alone);
      const auto [metric, value] = main_dev_metric(results);
      char text[64];
      std::snprintf(text, sizeof text, "dev %s %.4f", metric.c_str(), value);
      status = text;
      ++outcome.run;
    } catch (const std::exception& e) {
      status = std::string("FAILED: ") + e.what();
      try {
        data::write_file_atomically((fs::path(cell.dir) / "error.txt").string(),
                                    std::string(e.what()) + "\n");
      } catch (const std::exception&) {  // the folder itself is the problem: say it here only
      }
      ++outcome.failed;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("sweep: %s%s: %s (%.0f s)\n", dist::rank_prefix(communicator).c_str(),
                where.c_str(), status.c_str(), seconds);
    std::fflush(stdout);
    mine.push_back(i);
  }
  // Ranks that end early wait here, off MPI, for the others' last cells.
  if (communicator.size() > 1) {
    wait_for_every_rank(config.out_dir, communicator.rank(), communicator.size());
  }
  // Rank 0 learns which cells ran where and collects every cell's outcome from its folder.
  double totals[3] = {double(outcome.run), double(outcome.skipped), double(outcome.failed)};
  communicator.all_reduce_sum(totals, 3);
  outcome.run = int(totals[0]), outcome.skipped = int(totals[1]), outcome.failed = int(totals[2]);
  const auto gathered = communicator.gather_to_root(mine.dump());
  if (communicator.is_root()) {
    remove_cell_claims(config.out_dir);  // every rank is past its last claim
    // The tables cover this sweep's checkpoints and every other one with cells under OUT (runs
    // for other checkpoints into the same OUT, e.g. the tasks of a job array): each run
    // rewrites the whole table from the cell folders.
    std::vector<std::string> labels;
    for (const auto& cell : cells) {
      if (std::find(labels.begin(), labels.end(), cell.label) == labels.end()) {
        labels.push_back(cell.label);
      }
    }
    std::vector<Cell> all = cells;
    std::vector<std::string> others;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(fs::path(config.out_dir) / "cells", error)) {
      const std::string label = entry.path().filename().string();
      if (std::find(labels.begin(), labels.end(), label) == labels.end()) others.push_back(label);
    }
    std::sort(others.begin(), others.end());
    for (const auto& label : others) {
      labels.push_back(label);
      for (const auto& task : config.tasks) {
        for (double lr : config.learning_rates) {
          for (uint64_t seed : config.seeds) {
            all.push_back({label, label, &task, lr, seed, false,
                           label == kRandomInit ? 0 : config.reinit_layers,
                           cell_dir(config, label, task, lr, seed)});
          }
        }
      }
    }
    std::vector<nlohmann::json> rows;
    for (size_t i = 0; i < all.size(); ++i) rows.push_back(cell_row(all[i], i < cells.size()));
    write_reports(config, labels, rows);
    std::printf(
        "sweep: %d cells: %d finished now (on %zu rank(s)), %d finished before, %d failed; "
        "%s/results.csv, "
        "%s/summary.md\n",
        outcome.cells, outcome.run, gathered.size(), outcome.skipped, outcome.failed,
        config.out_dir.c_str(), config.out_dir.c_str());
  }
  return outcome;
}

}  // namespace electra::finetune
