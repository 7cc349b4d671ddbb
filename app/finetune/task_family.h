// The part of fine-tuning that differs between the paper's task families, behind one interface
// so the fine-tuner's loop (finetuner.cpp) and `electra evaluate` are written once: sentences
// (GLUE classification and regression: sentence_family.cpp), extractive question answering
// (SQuAD: span_family.cpp) and token tagging (CoNLL, CoNLL-U: token_family.cpp). A family reads
// and encodes its files, fixes the labels and settings the model is saved with, computes the
// loss of a batch, and evaluates a file: predictions split over the ranks, gathered to rank 0,
// scored as the family's official script does and written in its format.
#pragma once

#include <ATen/Tensor.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/finetune/finetuned_model.h"
#include "data/wordpiece_tokenizer.h"
#include "dist/communicator.h"

namespace electra::finetune {

// Model inputs, one row per training feature: [N, L] int64 (L the longest feature, padding 0),
// and the family's targets ([N] or [N, L], int64 or float).
struct TrainingRows {
  at::Tensor input_ids, segment_ids, input_mask;
  std::vector<at::Tensor> targets;
  long long count() const { return input_ids.defined() ? input_ids.size(0) : 0; }
};

// What an evaluation gives back on rank 0 (other ranks: empty).
struct Evaluation {
  nlohmann::json metrics = nlohmann::json::object();  // {} when the file has no gold labels
  std::string predictions;                            // the predictions file's text
  long long examples = 0;                             // examples, questions or sentences predicted
  long long rows = 0;  // model inputs they took (SQuAD and long sentences: windows)
};

class TaskFamily {
 public:
  virtual ~TaskFamily() = default;

  // Reads the training file (throws naming it), sets `finetuned`'s labels (and settings) from it
  // and returns its encoded rows; `summary` gets one line about what was read.
  virtual TrainingRows read_training(const std::string& path, FinetunedModel& finetuned,
                                     std::string& summary) = 0;
  // The loss of a batch: `logits` the model's output (fp32), `targets` the rows' targets.
  virtual at::Tensor loss(const at::Tensor& logits, const std::vector<at::Tensor>& targets) = 0;
  // Reads and encodes PATH for evaluation (once; later calls use what was read) and returns a
  // short description ("872 dev examples"); throws naming the file.
  virtual std::string read_evaluation(const FinetunedModel& finetuned, const std::string& path) = 0;
  // Predicts and scores PATH (read_evaluation) with `finetuned` on every rank.
  virtual Evaluation evaluate(FinetunedModel& finetuned, const std::string& path,
                              long long batch_size, dist::Communicator& communicator) = 0;
  // The dev metric that chooses the best epoch (a key of evaluate's metrics).
  virtual std::string default_metric(const FinetunedModel& finetuned) const = 0;
  // On rank 0 after the dev evaluation of an epoch: settings chosen on dev (SQuAD v2.0's null
  // threshold), `evaluation` scored again with them.
  virtual void choose_on_dev(FinetunedModel& /*finetuned*/, Evaluation& /*evaluation*/) {}
  // Where the predictions of a file go in OUT: "dev_predictions.json", ...
  virtual std::string predictions_name(const std::string& split) const = 0;
};

// The family of `finetuned.type`.
std::unique_ptr<TaskFamily> task_family(const FinetunedModel& finetuned,
                                        const data::WordPieceTokenizer& tokenizer);

// Helpers the families share.
// The rows [first, last) of `count` items that rank r of W predicts: a contiguous share.
std::pair<size_t, size_t> rank_share(size_t count, const dist::Communicator& communicator);
// Runs `finetuned` without gradients over `rows` (padded [N, L] inputs) in batches on its
// device and returns the fp32 logits on the CPU, batch by batch, each trimmed to its longest row.
void predict_batches(FinetunedModel& finetuned, const TrainingRows& rows, long long batch_size,
                     const std::function<void(long long first, const at::Tensor& logits)>& use);
// Pads int32 rows into an [N, L] int64 tensor (L the longest row, at least 1).
at::Tensor padded_rows(const std::vector<const std::vector<int32_t>*>& rows, int64_t pad);
// Model inputs from per-row token ids (and segment ids; none: all 0), padded with 0, the mask 1
// over each row's own length; no targets.
TrainingRows padded_inputs(const std::vector<const std::vector<int32_t>*>& ids,
                           const std::vector<const std::vector<int32_t>*>& segments = {});

}  // namespace electra::finetune
