#include "app/train/finetuned_model.h"

#include <ATen/Functions.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <fstream>

#include "app/train/checkpoint_files.h"
#include "app/train/task_metrics.h"
#include "data/atomic_file.h"
#include "data/json_fields.h"

namespace electra::train {

namespace fs = std::filesystem;

void save_finetuned(FinetunedModel& finetuned, const std::string& vocab_path,
                    const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error(dir + ": cannot create: " + error.message());
  torch::serialize::OutputArchive archive;
  finetuned.model->save(archive);
  save_archive_atomically(archive, (fs::path(dir) / kModelFile).string());
  data::write_file_atomically((fs::path(dir) / kModelConfigFile).string(),
                              finetuned.model->config.to_json().dump(2) + "\n");
  std::ifstream vocab(vocab_path, std::ios::binary);
  if (!vocab) throw std::runtime_error(vocab_path + ": cannot read the vocabulary");
  data::write_file_atomically((fs::path(dir) / kVocabFile).string(),
                              std::string(std::istreambuf_iterator<char>(vocab), {}));
  nlohmann::json task = finetuned.info;
  task["task_type"] = to_string(finetuned.type);
  task["labels"] = finetuned.labels.labels();
  task["max_seq_len"] = finetuned.max_seq_len;
  task["lowercase"] = finetuned.lowercase;
  data::write_file_atomically((fs::path(dir) / kTaskFile).string(), task.dump(2) + "\n");
}

FinetunedModel load_finetuned(const std::string& dir) {
  const std::string task_path = (fs::path(dir) / kTaskFile).string();
  if (!fs::exists(task_path)) {
    throw std::runtime_error(dir + ": not a fine-tuned model (no " + kTaskFile +
                             "); pass the --out of electra finetune or its best/ folder");
  }
  FinetunedModel finetuned;
  finetuned.info = data::read_json_file(task_path, "missing");
  finetuned.type =
      task_type_from(data::json_field<std::string>(finetuned.info, "task_type", task_path));
  finetuned.labels =
      LabelSet(data::json_field<std::vector<std::string>>(finetuned.info, "labels", task_path));
  finetuned.max_seq_len = data::json_field<long long>(finetuned.info, "max_seq_len", task_path);
  finetuned.lowercase = data::json_field<bool>(finetuned.info, "lowercase", task_path);
  const std::string config_path = (fs::path(dir) / kModelConfigFile).string();
  const auto config =
      model::ModelConfig::from_json(data::read_json_file(config_path, "missing"), config_path);
  const int64_t outputs = finetuned.type == TaskType::kRegression ? 1 : finetuned.labels.size();
  finetuned.model = model::SequenceClassifier(config, outputs);
  const std::string model_path = (fs::path(dir) / kModelFile).string();
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(model_path);
    finetuned.model->load(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(model_path + ": cannot load the fine-tuned model (" +
                             std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
  finetuned.vocab_path = (fs::path(dir) / kVocabFile).string();
  return finetuned;
}

Predictions predict(model::SequenceClassifierImpl& model, const EncodedTask& task, TaskType type,
                    long long first, long long count, long long batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const auto device = model.parameters().front().device();
  Predictions predictions;
  for (long long start = first; start < first + count; start += batch_size) {
    const long long rows = std::min(batch_size, first + count - start);
    const auto slice = [&](const at::Tensor& t) { return t.narrow(0, start, rows).to(device); };
    const at::Tensor out =
        model.forward(slice(task.input_ids), slice(task.segment_ids), slice(task.input_mask))
            .to(at::kFloat)
            .to(at::kCPU);
    if (type == TaskType::kRegression) {
      for (long long i = 0; i < rows; ++i) predictions.values.push_back(out[i][0].item<double>());
    } else {
      const at::Tensor probabilities = out.softmax(-1);
      const auto [top, classes] = probabilities.max(-1);
      for (long long i = 0; i < rows; ++i) {
        predictions.classes.push_back(int(classes[i].item<int64_t>()));
        predictions.values.push_back(top[i].item<double>());
      }
    }
  }
  if (was_training) model.train();
  return predictions;
}

void write_predictions(const std::string& path, const Predictions& predictions, TaskType type,
                       const LabelSet& labels) {
  std::string text = "index\tprediction\n";
  const size_t n =
      type == TaskType::kRegression ? predictions.values.size() : predictions.classes.size();
  for (size_t i = 0; i < n; ++i) {
    text += std::to_string(i) + "\t" +
            (type == TaskType::kRegression ? std::to_string(predictions.values[i])
                                           : labels.labels()[size_t(predictions.classes[i])]) +
            "\n";
  }
  data::write_file_atomically(path, text);
}

nlohmann::json task_metrics(const Predictions& predictions, const EncodedTask& task, TaskType type,
                            const LabelSet& labels) {
  if (!task.targets.defined()) return nlohmann::json::object();
  if (type == TaskType::kRegression) {
    const at::Tensor t = task.targets.to(at::kDouble).contiguous();
    const std::vector<double> gold(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    return regression_metrics(predictions.values, gold);
  }
  const at::Tensor t = task.targets.to(at::kInt).contiguous();
  const std::vector<int> gold(t.data_ptr<int>(), t.data_ptr<int>() + t.numel());
  return classification_metrics(predictions.classes, gold, labels.size(), labels.positive());
}

}  // namespace electra::train
