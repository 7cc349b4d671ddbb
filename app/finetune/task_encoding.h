// Task examples as model inputs: [CLS] A [SEP] (B [SEP]) padded to max_seq_len, and labels as
// class indices (classification) or numbers (regression). Truncation as BERT's fine-tuning does
// it: while the pair is too long, drop the last token of the longer text (A on ties), so both
// keep their beginnings; a single text loses its end.
#pragma once

#include <ATen/Tensor.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/task_reader.h"
#include "data/wordpiece_tokenizer.h"

namespace electra::finetune {

// Sentence tasks (GLUE): classification and regression; the per-token families: span (extractive
// question answering, SQuAD) and token (tagging: CoNLL chunking and NER, CoNLL-U POS).
enum class TaskType { kClassification, kRegression, kSpan, kToken };
// "classification" | "regression" | "span" | "token"; throws std::invalid_argument naming
// --task-type.
TaskType task_type_from(const std::string& name);
std::string to_string(TaskType type);

// The classes of a classification task, saved with the model: the distinct training labels,
// in numeric order when they are all integers ("0" < "1" < "10"), else in byte order.
class LabelSet {
 public:
  LabelSet() = default;
  explicit LabelSet(std::vector<std::string> labels) : labels_(std::move(labels)) {}
  static LabelSet from_examples(const std::vector<data::TaskExample>& examples);
  // The index of `label`; throws naming it and the known labels when it is not one of them.
  int index(const std::string& label) const;
  const std::vector<std::string>& labels() const { return labels_; }
  int size() const { return int(labels_.size()); }
  // The class F1 is reported for: "1" when it is a label (GLUE's MRPC, QQP), else the last one.
  int positive() const;

 private:
  std::vector<std::string> labels_;
};

struct EncodedTask {
  at::Tensor input_ids, input_mask, segment_ids;  // [N, L] int64
  at::Tensor targets;       // [N]: int64 class indices or float values; undefined when unlabelled
  long long truncated = 0;  // examples that lost tokens
};

// Encodes every example; `labels` maps classification labels (ignored for regression, where a
// label must parse as a number: the error names it). Throws when max_seq_len < 3 (or 5 for pairs).
EncodedTask encode_task(const data::TaskFile& file, const data::WordPieceTokenizer& tokenizer,
                        long long max_seq_len, TaskType type, const LabelSet& labels);

}  // namespace electra::finetune
