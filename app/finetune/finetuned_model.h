// A fine-tuned model on disk and in memory: DIR/model.pt (the network), model_config.json,
// vocab.txt and task.json (task type, labels, max_seq_len, casing, the family's settings, the dev
// metrics it was chosen on). Sentence tasks use the SequenceClassifier ([CLS] head), span and
// token tasks the PositionHeadModel (a head on every position). Written through temporary names;
// loaded back for `electra evaluate` and `electra export`.
#pragma once

#include <c10/core/Device.h>

#include <nlohmann/json.hpp>
#include <string>

#include "app/finetune/position_head_model.h"
#include "app/finetune/task_encoding.h"
#include "app/model/sequence_classifier.h"

namespace electra::finetune {

inline constexpr const char* kTaskFile = "task.json";

// Extractive question answering (SquadFeatureOptions, SpanDecodeOptions and the v2.0 threshold).
struct SpanSettings {
  int64_t doc_stride = 128, max_query_len = 64;
  int max_answer_len = 30, n_best = 20;
  double null_threshold = 0;  // v2.0: a question is unanswerable when null - best > this
};

// Token tagging: the file layout and the window stride over a long sentence's pieces.
struct TagSettings {
  int tag_column = 0;   // 1-based; 0: the format's default
  int64_t stride = 64;  // pieces between windows
};

struct FinetunedModel {
  TaskType type = TaskType::kClassification;
  LabelSet labels;     // classes (classification) or tags (token); empty otherwise
  std::string format;  // sentences: the TSV layout; token: conll or conllu; span: squad
  long long max_seq_len = 128;
  bool lowercase = true;
  SpanSettings span;
  TagSettings tags;
  std::string vocab_path;  // DIR/vocab.txt once saved or loaded
  nlohmann::json info;     // task.json's other fields (dev metrics, epoch, source model)

  model::SequenceClassifier classifier{nullptr};  // sentence tasks
  PositionHeadModel positions{nullptr};           // span and token tasks

  // Builds the network of `type` for `config` (random weights; the labels must be set).
  void create(const model::ModelConfig& config);
  torch::nn::Module& module();
  const model::ModelConfig& config() const;
  // Sentence tasks: [B, outputs]; span: [B, L, 2]; token: [B, L, labels].
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& segment_ids,
                     const at::Tensor& input_mask);
  void load_encoder_from(model::ElectraModelImpl& pair);
  int depth_of(const std::string& parameter_name) const;
  c10::Device device();
};

void save_finetuned(FinetunedModel& finetuned, const std::string& vocab_path,
                    const std::string& dir);
// DIR or DIR/best (an `electra finetune --out`), or a fine-tuned HuggingFace folder (config.json
// of ElectraForSequenceClassification, ElectraForQuestionAnswering or
// ElectraForTokenClassification, model.safetensors, vocab.txt; our export adds task.json with the
// settings, without it they are the defaults and the labels id2label). Throws naming the file
// when it is not a fine-tuned model.
FinetunedModel load_finetuned(const std::string& dir);

// True when DIR holds a fine-tuned model load_finetuned reads: our task.json in DIR or DIR/best,
// or a fine-tuned HuggingFace folder.
bool is_finetuned(const std::string& dir);

// True when DIR/config.json names a fine-tuned ELECTRA class (ElectraForSequenceClassification,
// ElectraForQuestionAnswering, ElectraForTokenClassification); false for anything else.
bool is_hf_finetuned(const std::string& dir);

// task.json's content: type, labels, format, max_seq_len, casing, the family's settings, info.
nlohmann::json task_json(const FinetunedModel& finetuned);

}  // namespace electra::finetune
