#include "app/train/metrics_log.h"

#include <filesystem>
#include <stdexcept>

#include "data/atomic_file.h"

namespace electra::train {

std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::vector<nlohmann::json> records;
  std::string line;
  for (long long number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    try {
      records.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(number) + ": not JSON (" + e.what() +
                               ")");
    }
  }
  return records;
}

MetricsLog::MetricsLog(const std::string& out_dir, long long resume_step)
    : path_((std::filesystem::path(out_dir) / kMetricsFile).string()) {
  if (std::filesystem::exists(path_)) {
    std::string kept;
    for (const auto& record : read_metrics(path_)) {
      if (record.value("step", 0LL) <= resume_step) kept += record.dump() + "\n";
    }
    data::write_file_atomically(path_, kept);
  }
  file_.open(path_, std::ios::app);
  if (!file_) throw std::runtime_error(path_ + ": cannot open for writing; check --out");
  tensorboard_ = std::make_unique<TensorBoardWriter>(
      (std::filesystem::path(out_dir) / "tensorboard").string());
}

void MetricsLog::write(const nlohmann::json& record) {
  file_ << record.dump() << "\n" << std::flush;
  if (!file_) throw std::runtime_error(path_ + ": cannot write (disk full?)");
  const std::string kind = record.at("kind").get<std::string>();
  std::map<std::string, double> scalars;
  for (const auto& [name, value] : record.items()) {
    if (value.is_number() && name != "step") scalars[kind + "/" + name] = value.get<double>();
  }
  tensorboard_->add_scalars(record.at("step").get<int64_t>(), scalars);
}

}  // namespace electra::train
