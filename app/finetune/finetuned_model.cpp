#include "app/finetune/finetuned_model.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <fstream>

#include "app/train/checkpoint_files.h"
#include "data/atomic_file.h"
#include "data/json_fields.h"

namespace electra::finetune {

namespace fs = std::filesystem;

void FinetunedModel::create(const model::ModelConfig& config) {
  switch (type) {
    case TaskType::kClassification:
      classifier = model::SequenceClassifier(config, labels.size());
      break;
    case TaskType::kRegression:
      classifier = model::SequenceClassifier(config, 1);
      break;
    case TaskType::kSpan:
      positions = PositionHeadModel(config, PositionTask::kSpan);
      break;
    case TaskType::kToken:
      positions = PositionHeadModel(config, PositionTask::kToken, labels.size());
      break;
  }
}

torch::nn::Module& FinetunedModel::module() {
  if (classifier) return *classifier;
  return *positions;
}

const model::ModelConfig& FinetunedModel::config() const {
  return classifier ? classifier->config : positions->config;
}

at::Tensor FinetunedModel::forward(const at::Tensor& input_ids, const at::Tensor& segment_ids,
                                   const at::Tensor& input_mask) {
  return classifier ? classifier->forward(input_ids, segment_ids, input_mask)
                    : positions->forward(input_ids, segment_ids, input_mask);
}

void FinetunedModel::load_encoder_from(model::ElectraModelImpl& pair) {
  if (classifier) {
    classifier->load_encoder_from(pair);
  } else {
    positions->load_encoder_from(pair);
  }
}

int FinetunedModel::depth_of(const std::string& name) const {
  return model::fine_tuning_depth(config(), name);
}

c10::Device FinetunedModel::device() {
  return module().parameters().front().device();
}

void save_finetuned(FinetunedModel& finetuned, const std::string& vocab_path,
                    const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error(dir + ": cannot create: " + error.message());
  torch::serialize::OutputArchive archive;
  finetuned.module().save(archive);
  train::save_archive_atomically(archive, (fs::path(dir) / train::kModelFile).string());
  data::write_file_atomically((fs::path(dir) / train::kModelConfigFile).string(),
                              finetuned.config().to_json().dump(2) + "\n");
  std::ifstream vocab(vocab_path, std::ios::binary);
  if (!vocab) throw std::runtime_error(vocab_path + ": cannot read the vocabulary");
  data::write_file_atomically((fs::path(dir) / train::kVocabFile).string(),
                              std::string(std::istreambuf_iterator<char>(vocab), {}));
  nlohmann::json task = finetuned.info;
  task["task_type"] = to_string(finetuned.type);
  task["labels"] = finetuned.labels.labels();
  task["format"] = finetuned.format;
  task["max_seq_len"] = finetuned.max_seq_len;
  task["lowercase"] = finetuned.lowercase;
  if (finetuned.type == TaskType::kSpan) {
    const SpanSettings& s = finetuned.span;
    task["span"] = {{"doc_stride", s.doc_stride},
                    {"max_query_len", s.max_query_len},
                    {"max_answer_len", s.max_answer_len},
                    {"n_best", s.n_best},
                    {"null_threshold", s.null_threshold}};
  }
  if (finetuned.type == TaskType::kToken) {
    task["tags"] = {{"tag_column", finetuned.tags.tag_column}, {"stride", finetuned.tags.stride}};
  }
  data::write_file_atomically((fs::path(dir) / kTaskFile).string(), task.dump(2) + "\n");
}

FinetunedModel load_finetuned(const std::string& given) {
  std::string dir = given;
  if (!fs::exists(fs::path(dir) / kTaskFile) && fs::exists(fs::path(dir) / "best" / kTaskFile)) {
    dir = (fs::path(dir) / "best").string();
  }
  const std::string task_path = (fs::path(dir) / kTaskFile).string();
  if (!fs::exists(task_path)) {
    throw std::runtime_error(dir + ": not a fine-tuned model (no " + kTaskFile +
                             "); pass the --out of electra finetune or its best/ folder");
  }
  using data::json_field;
  FinetunedModel finetuned;
  nlohmann::json& info = finetuned.info = data::read_json_file(task_path, "missing");
  finetuned.type = task_type_from(json_field<std::string>(info, "task_type", task_path));
  finetuned.labels = LabelSet(json_field<std::vector<std::string>>(info, "labels", task_path));
  finetuned.format = info.value("format", std::string());
  finetuned.max_seq_len = json_field<long long>(info, "max_seq_len", task_path);
  finetuned.lowercase = json_field<bool>(info, "lowercase", task_path);
  if (finetuned.type == TaskType::kSpan) {
    const nlohmann::json span = json_field<nlohmann::json>(info, "span", task_path);
    const std::string where = task_path + " (span)";
    finetuned.span.doc_stride = json_field<int64_t>(span, "doc_stride", where);
    finetuned.span.max_query_len = json_field<int64_t>(span, "max_query_len", where);
    finetuned.span.max_answer_len = json_field<int>(span, "max_answer_len", where);
    finetuned.span.n_best = json_field<int>(span, "n_best", where);
    finetuned.span.null_threshold = json_field<double>(span, "null_threshold", where);
  }
  if (finetuned.type == TaskType::kToken) {
    const nlohmann::json tags = json_field<nlohmann::json>(info, "tags", task_path);
    finetuned.tags.tag_column = json_field<int>(tags, "tag_column", task_path + " (tags)");
    finetuned.tags.stride = json_field<int64_t>(tags, "stride", task_path + " (tags)");
  }
  if ((finetuned.type == TaskType::kClassification || finetuned.type == TaskType::kToken) &&
      finetuned.labels.size() < 1) {
    throw std::runtime_error(task_path + ": field 'labels' is empty");
  }
  const std::string config_path = (fs::path(dir) / train::kModelConfigFile).string();
  const auto config =
      model::ModelConfig::from_json(data::read_json_file(config_path, "missing"), config_path);
  finetuned.create(config);
  const std::string model_path = (fs::path(dir) / train::kModelFile).string();
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(model_path);
    finetuned.module().load(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(model_path + ": cannot load the fine-tuned model (" +
                             std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
  finetuned.vocab_path = (fs::path(dir) / train::kVocabFile).string();
  return finetuned;
}

}  // namespace electra::finetune
