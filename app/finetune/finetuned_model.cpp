#include "app/finetune/finetuned_model.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "app/model/hf_format.h"
#include "app/model/loaded_weights.h"
#include "app/train/checkpoint_files.h"
#include "app/train/model_source.h"
#include "data/atomic_file.h"
#include "data/debug_detail.h"
#include "data/json_fields.h"
#include "data/output_record.h"

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

namespace {

// task.json's fields into `finetuned` (throws naming the file and field).
void read_task_json(FinetunedModel& finetuned, const nlohmann::json& task,
                    const std::string& task_path) {
  using data::json_field;
  nlohmann::json& info = finetuned.info = task;
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
}

// HF's label count: num_labels, else id2label's size, else 2 (transformers' default, which it
// does not write).
size_t hf_label_count(const nlohmann::json& config) {
  const nlohmann::json count = config.value("num_labels", nlohmann::json());
  if (count.is_number_unsigned() && count.get<size_t>() > 0) return count.get<size_t>();
  const nlohmann::json id2label = config.value("id2label", nlohmann::json());
  if (id2label.is_object() && !id2label.empty()) return id2label.size();
  return 2;
}

// The fine-tuned class an HF config names, as our task type; none for another class.
std::optional<TaskType> hf_task_type(const nlohmann::json& config) {
  const nlohmann::json architectures = config.value("architectures", nlohmann::json::array());
  const std::string name =
      architectures.is_array() && !architectures.empty() && architectures[0].is_string()
          ? architectures[0].get<std::string>()
          : std::string();
  if (name == "ElectraForQuestionAnswering") return TaskType::kSpan;
  if (name == "ElectraForTokenClassification") return TaskType::kToken;
  if (name == "ElectraForSequenceClassification") {
    const nlohmann::json problem = config.value("problem_type", nlohmann::json());
    return (problem.is_string() && problem.get<std::string>() == "regression") ||
                   hf_label_count(config) == 1
               ? TaskType::kRegression
               : TaskType::kClassification;
  }
  return std::nullopt;
}

// HF's id2label as our labels, in id order.
LabelSet hf_labels(const nlohmann::json& config, const std::string& path) {
  const nlohmann::json id2label = config.value("id2label", nlohmann::json::object());
  if (!id2label.is_object() || id2label.empty()) {  // transformers' defaults: LABEL_0, LABEL_1, ...
    std::vector<std::string> labels;
    for (size_t i = 0; i < hf_label_count(config); ++i)
      labels.push_back("LABEL_" + std::to_string(i));
    return LabelSet(labels);
  }
  std::vector<std::string> labels(id2label.size());
  for (const auto& [id, label] : id2label.items()) {
    size_t index = 0;
    try {
      index = size_t(std::stoul(id));
    } catch (const std::exception&) {
      index = labels.size();
    }
    if (index >= labels.size() || !label.is_string()) {
      throw std::runtime_error(path + ": id2label has an entry '" + id + "' that is not 0.." +
                               std::to_string(labels.size() - 1) + " -> a label");
    }
    labels[index] = label.get<std::string>();
  }
  return LabelSet(labels);
}

// A fine-tuned HF folder (ours, with its task.json, or anyone's: then the settings are the
// defaults and the labels id2label).
FinetunedModel import_hf_finetuned(const std::string& dir) {
  data::refuse_unfinished_output(dir);  // a killed export's folder is not a model
  const std::string config_path = (fs::path(dir) / "config.json").string();
  const nlohmann::json hf = data::read_json_file(config_path, "missing");
  FinetunedModel finetuned;
  const std::string task_path = (fs::path(dir) / kTaskFile).string();
  const std::optional<TaskType> named = hf_task_type(hf);
  if (!named) {
    throw std::runtime_error(config_path +
                             ": architectures[0] is not a fine-tuned ELECTRA "
                             "(ElectraForSequenceClassification, ElectraForQuestionAnswering or "
                             "ElectraForTokenClassification)");
  }
  const TaskType architecture = *named;
  if (fs::exists(task_path)) {
    read_task_json(finetuned, data::read_json_file(task_path, "missing"), task_path);
    if (finetuned.type != architecture) {
      throw std::runtime_error(task_path + ": task_type " + to_string(finetuned.type) +
                               " disagrees with " + config_path);
    }
  } else {
    finetuned.type = architecture;
    if (architecture != TaskType::kSpan && architecture != TaskType::kRegression) {
      finetuned.labels = hf_labels(hf, config_path);
    }
    finetuned.format = architecture == TaskType::kSpan ? "squad" : "auto";
    finetuned.max_seq_len = std::min<long long>(architecture == TaskType::kSpan ? 384 : 128,
                                                hf.value("max_position_embeddings", 128));
    const std::string tokenizer = (fs::path(dir) / "tokenizer_config.json").string();
    if (fs::exists(tokenizer)) {
      finetuned.lowercase = data::read_json_file(tokenizer, "missing").value("do_lower_case", true);
    }
    finetuned.tags.stride = std::max<long long>(1, (finetuned.max_seq_len - 2) / 2);
    finetuned.span.max_query_len = std::min<int64_t>(64, finetuned.max_seq_len / 2);
  }
  const model::ModelConfig config = model::hf_discriminator_config(config_path);
  finetuned.create(config);
  const auto head = finetuned.classifier ? model::hf_classifier_head()
                                         : hf_position_head(finetuned.positions->task);
  model::import_hf_with_head(finetuned.module(), config, head,
                             (fs::path(dir) / "model.safetensors").string());
  finetuned.vocab_path = (fs::path(dir) / train::kVocabFile).string();
  if (!fs::exists(finetuned.vocab_path)) {
    throw std::runtime_error(dir + ": has no vocab.txt (the model's WordPiece vocabulary)");
  }
  return finetuned;
}

}  // namespace

bool is_finetuned(const std::string& dir) {
  return fs::exists(fs::path(dir) / kTaskFile) || fs::exists(fs::path(dir) / "best" / kTaskFile) ||
         is_hf_finetuned(dir);
}

bool is_hf_finetuned(const std::string& dir) {
  const fs::path config = fs::path(dir) / "config.json";
  if (!fs::is_regular_file(config)) return false;
  std::ifstream in(config);
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return json.is_object() && hf_task_type(json).has_value();
}

void save_finetuned(FinetunedModel& finetuned, const std::string& vocab_path,
                    const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error(dir + ": cannot create: " + error.message());
  torch::serialize::OutputArchive archive;
  train::save_module_on_host(finetuned.module(), archive);
  train::save_archive_atomically(archive, (fs::path(dir) / train::kModelFile).string());
  data::write_file_atomically((fs::path(dir) / train::kModelConfigFile).string(),
                              finetuned.config().to_json().dump(2) + "\n");
  std::ifstream vocab(vocab_path, std::ios::binary);
  if (!vocab) throw std::runtime_error(vocab_path + ": cannot read the vocabulary");
  data::write_file_atomically((fs::path(dir) / train::kVocabFile).string(),
                              std::string(std::istreambuf_iterator<char>(vocab), {}));
  data::write_file_atomically((fs::path(dir) / kTaskFile).string(),
                              task_json(finetuned).dump(2) + "\n");
}

nlohmann::json task_json(const FinetunedModel& finetuned) {
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
  return task;
}

namespace {

FinetunedModel read_finetuned(const std::string& given) {
  std::string dir = given;
  if (!fs::exists(fs::path(dir) / kTaskFile) && fs::exists(fs::path(dir) / "best" / kTaskFile)) {
    dir = (fs::path(dir) / "best").string();
  }
  if (!fs::exists(fs::path(dir) / train::kModelFile) && fs::exists(fs::path(dir) / "config.json")) {
    return import_hf_finetuned(dir);
  }
  const std::string task_path = (fs::path(dir) / kTaskFile).string();
  if (!fs::exists(task_path)) {
    throw std::runtime_error(dir + ": not a fine-tuned model (no " + kTaskFile +
                             "); pass the --out of electra finetune, its best/ folder or a "
                             "fine-tuned HuggingFace folder");
  }
  FinetunedModel finetuned;
  read_task_json(finetuned, data::read_json_file(task_path, "missing"), task_path);
  const std::string config_path = (fs::path(dir) / train::kModelConfigFile).string();
  const auto config =
      model::ModelConfig::from_json(data::read_json_file(config_path, "missing"), config_path);
  finetuned.create(config);
  const std::string model_path = (fs::path(dir) / train::kModelFile).string();
  const model::ParameterShapes made = model::parameter_shapes(finetuned.module());
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(model_path, torch::kCPU);  // created on the CPU, whoever wrote the file
    finetuned.module().load(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(model_path +
                             ": cannot load the fine-tuned model (the file is damaged, or " +
                             train::kModelConfigFile + " does not match it); fine-tune again" +
                             data::debug_detail(e.what_without_backtrace()));
  }
  if (const std::string change = model::first_shape_change(made, finetuned.module());
      !change.empty()) {
    throw std::runtime_error(model_path + ": " + train::kModelConfigFile +
                             " does not match its weights (" + change +
                             " from the config); "
                             "fine-tune again");
  }
  model::require_finite_weights(finetuned.module(), model_path);
  finetuned.vocab_path = (fs::path(dir) / train::kVocabFile).string();
  return finetuned;
}

}  // namespace

FinetunedModel load_finetuned(const std::string& given) {
  FinetunedModel finetuned = read_finetuned(given);
  train::check_vocabulary(finetuned.vocab_path, finetuned.config().vocab_size, given);
  return finetuned;
}

}  // namespace electra::finetune
