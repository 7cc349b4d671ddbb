// electra plot: a run's curves (RUN/metrics.jsonl) as a PNG, drawn by gnuplot: the generator's
// and the discriminator's training and evaluation losses, and the evaluation accuracies and AUC.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/cli/command.h"
#include "app/train/metrics_log.h"
#include "data/atomic_file.h"
#include "data/output_path.h"

namespace electra::cli {
namespace {

namespace fs = std::filesystem;

void declare(po::options_description& options) {
  options.add_options()("run", po::value<std::string>()->required(),
                        "run directory of electra pretrain (holding metrics.jsonl)")(
      "out", po::value<std::string>()->default_value(""),
      "PNG file; default RUN/curves.png (replaced on every plot)")(
      "overwrite", po::bool_switch(), "replace an existing --out file");
}

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

int run(const po::variables_map& options) {
  const std::string run_dir = options["run"].as<std::string>();
  const std::string metrics = (fs::path(run_dir) / train::kMetricsFile).string();
  if (!fs::exists(metrics)) {
    throw std::runtime_error(metrics + ": missing; pass the --out directory of electra pretrain");
  }
  const auto records = train::read_metrics(metrics);
  const std::string train_rows = table(records, "train", {"mlm_loss", "disc_loss"});
  const std::string eval_rows = table(
      records, "eval", {"mlm_loss", "disc_loss", "mlm_accuracy", "disc_accuracy", "disc_auc"});
  if (train_rows.empty() && eval_rows.empty()) {
    throw std::runtime_error(metrics + ": no train or eval records yet");
  }
  std::string out = options["out"].as<std::string>();
  const bool default_out = out.empty();
  if (default_out) out = (fs::path(run_dir) / "curves.png").string();
  data::refuse_input_as_output(out, "--out", {{metrics, "metrics file of --run"}});
  const auto lock = data::OutputLock::file(out, "--out", "electra plot");
  if (fs::exists(out) && !options["overwrite"].as<bool>()) {
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
  const std::string script =
      "set terminal pngcairo size 1500,450 font 'sans,10'\n"
      "set output '" +
      image +
      "'\n"
      "set multiplot layout 1,3 title '" +
      run_dir +
      "'\n"
      "set key top right\nset grid\nset xlabel 'step'\n"
      "set title 'generator (MLM) loss'\n"
      "plot '" +
      (work / "train.dat").string() + "' using 1:2 with lines title 'train', '" +
      (work / "eval.dat").string() +
      "' using 1:2 with linespoints title 'eval'\n"
      "set title 'discriminator (RTD) loss'\n"
      "plot '" +
      (work / "train.dat").string() + "' using 1:3 with lines title 'train', '" +
      (work / "eval.dat").string() +
      "' using 1:3 with linespoints title 'eval'\n"
      "set title 'evaluation'\nset yrange [0:1]\nset key bottom right\n"
      "plot '" +
      (work / "eval.dat").string() +
      "' using 1:4 with linespoints title 'MLM accuracy', '' "
      "using 1:5 with linespoints title 'RTD accuracy', '' using 1:6 with linespoints title 'RTD "
      "AUC'\n"
      "unset multiplot\n";
  data::write_file_atomically((work / "curves.gp").string(), script);
  const std::string command = "gnuplot '" + (work / "curves.gp").string() + "' 2>&1";
  const int status = std::system(command.c_str());
  std::error_code ignored;
  if (status != 0 || !fs::exists(image)) {
    fs::remove_all(work, ignored);
    fs::remove(image, ignored);
    throw std::runtime_error("gnuplot failed (exit " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                             "); install it with launch/setup.sh (Debian package gnuplot-nox)");
  }
  fs::rename(image, out);
  fs::remove_all(work, ignored);
  std::cout << "curves: " << out << "\n";
  return kExitOk;
}

}  // namespace

Command plot_command() {
  Command command{"plot",
                  "Draw a pretraining run's loss and accuracy curves to a PNG (gnuplot).",
                  "RUN_DIR [--out FILE]",
                  declare,
                  {},
                  run};
  command.positional.add("run", 1);
  return command;
}

}  // namespace electra::cli
