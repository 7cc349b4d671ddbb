// electra plot: pretraining curves (RUN/metrics.jsonl) as a PNG, drawn by gnuplot. One run: the
// generator's and the discriminator's training and evaluation losses, and the evaluation
// accuracies and AUC. Several runs (e.g. ours against bench/reference_electra.py, or one recipe
// over seeds): their evaluation curves side by side in the same panels (MLM loss and accuracy,
// RTD loss and AUC), and the same figures as JSON beside the PNG.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/train/metrics_log.h"
#include "data/atomic_file.h"
#include "data/output_path.h"

namespace electra::cli {
namespace {

namespace fs = std::filesystem;

void declare(po::options_description& options) {
  options.add_options()("run", po::value<std::vector<std::string>>()->required()->multitoken(),
                        "run directory of electra pretrain (holding metrics.jsonl); several: "
                        "their evaluation curves side by side (--out needed)")(
      "label", po::value<std::vector<std::string>>()->multitoken(),
      "with several runs: each one's name in the legend and the JSON, in --run's order "
      "(default: the run folders' names)")(
      "out", po::value<std::string>()->default_value(""),
      "PNG file; default RUN/curves.png for one run (replaced on every plot); with several runs "
      "the figures also go to the same name with .json")("overwrite", po::bool_switch(),
                                                         "replace an existing --out file");
}

const std::vector<std::string> kEvalFields{"mlm_loss", "disc_loss", "mlm_accuracy", "disc_accuracy",
                                           "disc_auc"};

// Columns step and FIELDS of the records of one kind, as gnuplot data.
std::string table(const std::vector<nlohmann::json>& records, const std::string& kind,
                  const std::vector<std::string>& fields) {
  std::string text;
  for (const auto& record : records) {
    if (record.value("kind", "") != kind) continue;
    text += std::to_string(record.value("step", 0LL));
    for (const auto& field : fields) {
      text += " " + (record.contains(field) ? record[field].dump() : std::string("NaN"));
    }
    text += "\n";
  }
  return text;
}

// Whether any record has FIELD (an MLM-only run's have no discriminator figures).
bool has_field(const std::vector<nlohmann::json>& records, const std::string& field) {
  return std::any_of(records.begin(), records.end(),
                     [&](const nlohmann::json& record) { return record.contains(field); });
}

std::vector<nlohmann::json> run_records(const std::string& run_dir) {
  const std::string metrics = (fs::path(run_dir) / train::kMetricsFile).string();
  if (!fs::exists(metrics)) {
    throw std::runtime_error(metrics + ": missing; pass the --out directory of electra pretrain");
  }
  return train::read_metrics(metrics);
}

std::string quoted_for_gnuplot(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return "'" + out + "'";
}

// Runs gnuplot on SCRIPT (which draws IMAGE) in the scratch folder WORK, then renames IMAGE to
// OUT; WORK and IMAGE are removed either way.
void draw(const fs::path& work, const std::string& script, const std::string& image,
          const std::string& out) {
  data::write_file_atomically((work / "curves.gp").string(), script);
  std::string script_path;  // single-quoted for the shell
  for (char c : (work / "curves.gp").string()) {
    script_path += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  // gnuplot's own messages stay out of the user's view: the failure is said below.
  const std::string command = "gnuplot '" + script_path + "' >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  std::error_code ignored;
  if (status != 0 || !fs::exists(image)) {
    fs::remove_all(work, ignored);
    fs::remove(image, ignored);
    throw std::runtime_error("gnuplot failed drawing " + out + " (exit " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                             "); is it installed? launch/setup.sh installs it (Debian package "
                             "gnuplot-nox)");
  }
  fs::rename(image, out);
  fs::remove_all(work, ignored);
}

int plot_one(const std::string& run_dir, std::string out, bool overwrite) {
  const std::string metrics = (fs::path(run_dir) / train::kMetricsFile).string();
  const auto records = run_records(run_dir);
  const std::string train_rows = table(records, "train", {"mlm_loss", "disc_loss"});
  const std::string eval_rows = table(records, "eval", kEvalFields);
  if (train_rows.empty() && eval_rows.empty()) {
    throw std::runtime_error(metrics + ": no train or eval records yet");
  }
  const bool default_out = out.empty();
  if (default_out) out = (fs::path(run_dir) / "curves.png").string();
  data::refuse_input_as_output(out, "--out", {{metrics, "metrics file of --run"}});
  const auto lock = data::OutputLock::file(out, "--out", "electra plot");
  if (fs::exists(out) && !overwrite) {
    std::ifstream existing(out, std::ios::binary);
    char signature[4] = {};
    existing.read(signature, 4);
    if (std::string(signature, 4) != "\x89PNG") {
      throw std::runtime_error(out +
                               ": exists and is not a PNG; choose another --out (or pass "
                               "--overwrite to replace it)");
    }
    if (!default_out) {
      throw std::runtime_error(out + ": exists; choose another --out or pass --overwrite");
    }
  }

  const fs::path work = fs::path(out).string() + ".plot";
  fs::create_directories(work);
  data::write_file_atomically((work / "train.dat").string(),
                              train_rows.empty() ? "0 NaN NaN\n" : train_rows);
  data::write_file_atomically((work / "eval.dat").string(),
                              eval_rows.empty() ? "0 NaN NaN NaN NaN NaN\n" : eval_rows);
  const std::string image = out + ".tmp.png";
  const std::string train_dat = quoted_for_gnuplot((work / "train.dat").string());
  const std::string eval_dat = quoted_for_gnuplot((work / "eval.dat").string());
  // An MLM-only run (--strategy mlm) has no discriminator figures: its panels are left out.
  const bool rtd = has_field(records, "disc_loss");
  const std::string script =
      std::string("set terminal pngcairo size ") + (rtd ? "1500" : "1000") +
      ",450 font 'sans,10'\nset output " + quoted_for_gnuplot(image) + "\nset multiplot layout 1," +
      (rtd ? "3" : "2") + " title " + quoted_for_gnuplot(run_dir) +
      "\nset key top right\nset grid\nset xlabel 'step'\nset key noenhanced\n"
      "set title 'generator (MLM) loss'\n"
      "plot " +
      train_dat + " using 1:2 with lines title 'train', " + eval_dat +
      " using 1:2 with linespoints title 'eval'\n" +
      (rtd ? "set title 'discriminator (RTD) loss'\nplot " + train_dat +
                 " using 1:3 with lines title 'train', " + eval_dat +
                 " using 1:3 with linespoints title 'eval'\n"
           : std::string()) +
      "set title 'evaluation'\nset yrange [0:1]\nset key bottom right\nplot " + eval_dat +
      " using 1:4 with linespoints title 'MLM accuracy'" +
      (rtd ? ", '' using 1:5 with linespoints title 'RTD accuracy', '' using 1:6 with linespoints "
             "title 'RTD AUC'"
           : "") +
      "\nunset multiplot\n";
  draw(work, script, image, out);
  std::cout << "curves: " << out << "\n";
  return kExitOk;
}

// Several runs' evaluation curves in four panels, one line per run; OUT.json holds the figures.
int plot_several(const std::vector<std::string>& runs, std::vector<std::string> labels,
                 const std::string& out, bool overwrite) {
  if (out.empty())
    throw UsageError("--out PNG is needed with several --run (no run's folder owns it)");
  if (labels.empty()) {
    for (const auto& run : runs) {
      const fs::path p = fs::path(run).lexically_normal();
      labels.push_back((p.filename().empty() ? p.parent_path() : p).filename().string());
    }
  } else if (labels.size() != runs.size()) {
    throw UsageError("--label: " + std::to_string(labels.size()) + " given for " +
                     std::to_string(runs.size()) + " --run; give one per run, in order");
  }
  std::vector<data::CommandInput> inputs;
  for (const auto& run : runs) {
    inputs.push_back({(fs::path(run) / train::kMetricsFile).string(), "metrics file of --run"});
  }
  const std::string json_out = fs::path(out).replace_extension(".json").string();
  if (json_out == out) throw UsageError("--out " + out + ": give the PNG a .png name");
  const auto png_lock =
      data::OutputLock::claim_file(out, "--out", "electra plot", inputs, overwrite);
  const auto json_lock = data::OutputLock::claim_file(json_out, "--out (its .json beside it)",
                                                      "electra plot", inputs, overwrite);
  // Every run read before anything is written.
  std::vector<std::vector<nlohmann::json>> all;
  for (const auto& run : runs) {
    all.push_back(run_records(run));
    if (table(all.back(), "eval", kEvalFields).empty()) {
      throw std::runtime_error((fs::path(run) / train::kMetricsFile).string() +
                               ": no eval records yet");
    }
  }
  const fs::path work = fs::path(out).string() + ".plot";
  fs::create_directories(work);
  nlohmann::json figures = {{"runs", nlohmann::json::array()}};
  std::vector<std::string> files;
  for (size_t i = 0; i < runs.size(); ++i) {
    files.push_back((work / ("run" + std::to_string(i) + ".dat")).string());
    data::write_file_atomically(files.back(), table(all[i], "eval", kEvalFields));
    nlohmann::json eval = nlohmann::json::array();
    for (const auto& record : all[i]) {
      if (record.value("kind", "") != "eval") continue;
      nlohmann::json point = {{"step", record.value("step", 0LL)}};
      for (const auto& field : kEvalFields) {
        if (record.contains(field)) point[field] = record[field];
      }
      eval.push_back(point);
    }
    figures["runs"].push_back({{"run", runs[i]}, {"label", labels[i]}, {"eval", eval}});
  }
  // A panel draws the runs that have its figure (MLM-only runs have no RTD ones); a panel no run
  // has is left out.
  int panels = 0;
  const auto panel = [&](const std::string& title, const std::string& field, bool unit_range) {
    const int column =
        2 + int(std::find(kEvalFields.begin(), kEvalFields.end(), field) - kEvalFields.begin());
    std::string lines;
    for (size_t i = 0; i < files.size(); ++i) {
      if (!has_field(all[i], field)) continue;
      lines += (lines.empty() ? "" : ", ") + quoted_for_gnuplot(files[i]) +
               " using 1:" + std::to_string(column) + " with linespoints title " +
               quoted_for_gnuplot(labels[i]);
    }
    if (lines.empty()) return std::string();
    ++panels;
    return "set title '" + title + "'\n" +
           (unit_range ? "set yrange [0:1]\n" : "set autoscale y\n") + "plot " + lines + "\n";
  };
  const std::string drawn = panel("eval MLM loss", "mlm_loss", false) +
                            panel("eval MLM accuracy", "mlm_accuracy", false) +
                            panel("eval RTD loss", "disc_loss", false) +
                            panel("eval RTD AUC (against its own generator)", "disc_auc", true);
  const std::string image = out + ".tmp.png";
  const std::string script =
      std::string("set terminal pngcairo size 1400,") + (panels > 2 ? "1000" : "500") +
      " font 'sans,10'\nset output " + quoted_for_gnuplot(image) + "\nset multiplot layout " +
      (panels > 2 ? "2,2" : "1,2") +
      "\nset key top right\nset grid\nset xlabel 'step'\nset key noenhanced opaque\n" + drawn +
      "unset multiplot\n";
  data::write_file_atomically(json_out, figures.dump(1) + "\n");
  draw(work, script, image, out);
  std::cout << "curves: " << out << ", figures: " << json_out << "\n";
  return kExitOk;
}

int run(const po::variables_map& options) {
  const auto runs = options["run"].as<std::vector<std::string>>();
  const std::string out = options["out"].as<std::string>();
  const bool overwrite = options["overwrite"].as<bool>();
  std::vector<std::string> labels;
  if (options.count("label")) labels = options["label"].as<std::vector<std::string>>();
  if (runs.size() == 1) {
    if (!labels.empty()) throw UsageError("--label names the curves of several --run");
    return plot_one(runs.front(), out, overwrite);
  }
  return plot_several(runs, labels, out, overwrite);
}

}  // namespace

Command plot_command() {
  Command command{"plot",
                  "Draw pretraining runs' loss and accuracy curves to a PNG (gnuplot); several "
                  "runs side by side.",
                  "RUN_DIR [RUN_DIR ...] [--label A B ...] [--out FILE]",
                  declare,
                  {},
                  run};
  command.positional.add("run", -1);
  return command;
}

}  // namespace electra::cli
