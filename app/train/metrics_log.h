// Rank 0's record of a run: OUT/metrics.jsonl (one JSON object a line: "kind": "train" or
// "eval", with "step" and the figures) and the same scalars as TensorBoard events under
// OUT/tensorboard/. Lines are flushed as written, so a crash loses nothing already logged.
#pragma once

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/train/tensorboard_events.h"

namespace electra::train {

inline constexpr const char* kMetricsFile = "metrics.jsonl";

class MetricsLog {
 public:
  // Opens OUT/metrics.jsonl for appending; when resuming from `resume_step`, first drops the
  // records after it (the interrupted run's, which the resumed run writes again).
  MetricsLog(const std::string& out_dir, long long resume_step);
  // `record` has "kind" and "step"; every other number also goes to TensorBoard as KIND/NAME.
  void write(const nlohmann::json& record);

 private:
  std::string path_;
  std::ofstream file_;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
};

// The records of a metrics.jsonl file; throws naming the file and line of a malformed one.
std::vector<nlohmann::json> read_metrics(const std::string& path);

}  // namespace electra::train
