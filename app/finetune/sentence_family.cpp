// Sentence tasks (GLUE): [CLS] A [SEP] (B [SEP]) -> the SequenceClassifier's head; cross-entropy
// for classification, mean squared error for regression; the metrics GLUE reports; predictions
// as "index<TAB>prediction" lines.
#include <ATen/Functions.h>

#include <cmath>
#include <map>

#include "app/finetune/task_family.h"
#include "app/finetune/task_metrics.h"

namespace electra::finetune {
namespace {

TrainingRows rows_of(const EncodedTask& task) {
  TrainingRows rows{task.input_ids, task.segment_ids, task.input_mask, {}};
  if (task.targets.defined()) rows.targets.push_back(task.targets);
  return rows;
}

class SentenceFamily : public TaskFamily {
 public:
  explicit SentenceFamily(const data::WordPieceTokenizer& tokenizer) : tokenizer_(tokenizer) {}

  TrainingRows read_training(const std::string& path, FinetunedModel& finetuned,
                             std::string& summary) override {
    const data::TaskFile file = data::read_task_file(path, finetuned.format);
    if (!file.labelled) throw std::runtime_error(path + ": has no labels");
    finetuned.format = file.format;
    if (finetuned.type == TaskType::kClassification) {
      finetuned.labels = LabelSet::from_examples(file.examples);
      if (finetuned.labels.size() < 2) {
        throw std::runtime_error(path + ": a classification task needs at least two labels");
      }
    }
    const EncodedTask task =
        encode_task(file, tokenizer_, finetuned.max_seq_len, finetuned.type, finetuned.labels);
    summary = file.format + " task, " + std::to_string(file.examples.size()) + " train examples (" +
              std::to_string(task.truncated) + " truncated to " +
              std::to_string(finetuned.max_seq_len) + " tokens), " + to_string(finetuned.type) +
              (finetuned.type == TaskType::kClassification
                   ? " over " + std::to_string(finetuned.labels.size()) + " labels"
                   : std::string());
    return rows_of(task);
  }

  at::Tensor loss(const at::Tensor& logits, const std::vector<at::Tensor>& targets) override {
    return logits.size(-1) == 1 && targets[0].scalar_type() == at::kFloat
               ? at::mse_loss(logits.squeeze(-1), targets[0])
               : at::cross_entropy_loss(logits, targets[0]);
  }

  std::string read_evaluation(const FinetunedModel& finetuned, const std::string& path) override {
    auto found = cache_.find(path);
    if (found == cache_.end()) {
      data::TaskFile file = data::read_task_file(path, finetuned.format);
      EncodedTask task =
          encode_task(file, tokenizer_, finetuned.max_seq_len, finetuned.type, finetuned.labels);
      found = cache_.emplace(path, Encoded{std::move(file), std::move(task)}).first;
    }
    return std::to_string(found->second.file.examples.size()) + " examples" +
           (found->second.file.labelled ? "" : " (unlabelled)");
  }

  Evaluation evaluate(FinetunedModel& finetuned, const std::string& path, long long batch_size,
                      dist::Communicator& communicator) override {
    read_evaluation(finetuned, path);
    const EncodedTask& task = cache_.find(path)->second.task;
    const bool regression = finetuned.type == TaskType::kRegression;
    const auto [first, last] = rank_share(size_t(task.input_ids.size(0)), communicator);
    const auto slice = [&](const at::Tensor& t) {
      return t.narrow(0, int64_t(first), int64_t(last - first));
    };
    TrainingRows mine{slice(task.input_ids), slice(task.segment_ids), slice(task.input_mask), {}};
    nlohmann::json part = nlohmann::json::array();
    predict_batches(finetuned, mine, batch_size, [&](long long, const at::Tensor& logits) {
      if (regression) {
        for (int64_t i = 0; i < logits.size(0); ++i) {
          const double value = logits[i][0].item<double>();
          part.push_back(std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr));
        }
      } else {
        const at::Tensor classes = logits.argmax(-1);
        for (int64_t i = 0; i < logits.size(0); ++i) part.push_back(classes[i].item<int64_t>());
      }
    });
    Evaluation evaluation;
    std::vector<double> values;
    std::vector<int> classes;
    for (const std::string& text : communicator.gather_to_root(part.dump())) {
      for (const auto& v : nlohmann::json::parse(text)) {
        if (v.is_null()) {
          throw std::runtime_error(path +
                                   ": the model predicts values that are not finite (training "
                                   "diverged: lower --lr)");
        }
        regression ? values.push_back(v.get<double>()) : classes.push_back(v.get<int>());
      }
    }
    if (!communicator.is_root()) return evaluation;
    evaluation.examples = evaluation.rows = task.input_ids.size(0);
    evaluation.predictions = "index\tprediction\n";
    const size_t n = regression ? values.size() : classes.size();
    for (size_t i = 0; i < n; ++i) {
      evaluation.predictions +=
          std::to_string(i) + "\t" +
          (regression ? std::to_string(values[i]) : finetuned.labels.labels()[size_t(classes[i])]) +
          "\n";
    }
    if (!task.targets.defined()) return evaluation;
    if (regression) {
      const at::Tensor t = task.targets.to(at::kDouble).contiguous();
      evaluation.metrics = regression_metrics(
          values, std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel()));
    } else {
      const at::Tensor t = task.targets.to(at::kInt).contiguous();
      evaluation.metrics = classification_metrics(
          classes, std::vector<int>(t.data_ptr<int>(), t.data_ptr<int>() + t.numel()),
          finetuned.labels.size(), finetuned.labels.positive());
    }
    return evaluation;
  }

  std::string default_metric(const FinetunedModel& finetuned) const override {
    if (finetuned.type == TaskType::kRegression) return "pearson_spearman_mean";
    return finetuned.format == "cola" ? "matthews_corr" : "accuracy";
  }

  std::string predictions_name(const std::string& split) const override {
    return split + "_predictions.tsv";
  }

 private:
  struct Encoded {
    data::TaskFile file;
    EncodedTask task;
  };
  const data::WordPieceTokenizer& tokenizer_;
  std::map<std::string, Encoded> cache_;
};

}  // namespace

std::unique_ptr<TaskFamily> sentence_family(const data::WordPieceTokenizer& tokenizer) {
  return std::make_unique<SentenceFamily>(tokenizer);
}

}  // namespace electra::finetune
