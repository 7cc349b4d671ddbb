// A fine-tuned classifier on disk and in memory: DIR/model.pt (the SequenceClassifier),
// model_config.json, vocab.txt and task.json (task type, labels, max_seq_len, casing, the dev
// metrics it was chosen on). Written through temporary names; loaded back for `electra evaluate`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app/model/sequence_classifier.h"
#include "app/train/task_encoding.h"

namespace electra::train {

inline constexpr const char* kTaskFile = "task.json";

struct FinetunedModel {
  model::SequenceClassifier model{nullptr};
  TaskType type = TaskType::kClassification;
  LabelSet labels;
  long long max_seq_len = 128;
  bool lowercase = true;
  std::string vocab_path;  // DIR/vocab.txt once saved or loaded
  nlohmann::json info;     // task.json's other fields (dev metrics, epoch, source model)
};

void save_finetuned(FinetunedModel& finetuned, const std::string& vocab_path,
                    const std::string& dir);
// Throws naming the file when DIR is not a fine-tuned model.
FinetunedModel load_finetuned(const std::string& dir);

struct Predictions {
  std::vector<int> classes;    // classification: argmax
  std::vector<double> values;  // regression: the output; classification: the top probability
};

// Predicts rows [first, first + count) of `task` in batches, without gradients, on the model's
// device.
Predictions predict(model::SequenceClassifierImpl& model, const EncodedTask& task, TaskType type,
                    long long first, long long count, long long batch_size);

// Writes "index<TAB>prediction" per example (the label, or the value for regression).
void write_predictions(const std::string& path, const Predictions& predictions, TaskType type,
                       const LabelSet& labels);

// The metrics of `predictions` against `task`'s targets (the metric set GLUE reports).
nlohmann::json task_metrics(const Predictions& predictions, const EncodedTask& task, TaskType type,
                            const LabelSet& labels);

}  // namespace electra::train
