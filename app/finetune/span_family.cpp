// Extractive question answering (SQuAD v1.1 and v2.0): question + context windows -> the
// PositionHeadModel's start and end logits; loss = mean of the two cross-entropies; decoding over
// all windows of a question (squad_decoding.h); EM and F1 as the official scripts; predictions
// as the official file (question id -> answer text). For v2.0 the null threshold is chosen on
// dev (best F1, as the v2.0 script's search) and saved with the model.
#include <ATen/Functions.h>

#include <cmath>
#include <limits>
#include <map>

#include "app/finetune/squad_decoding.h"
#include "app/finetune/task_family.h"
#include "app/finetune/task_losses.h"

namespace electra::finetune {
namespace {

SquadFeatureOptions feature_options(const FinetunedModel& finetuned) {
  return {finetuned.max_seq_len, finetuned.span.doc_stride, finetuned.span.max_query_len};
}

TrainingRows rows_of(const std::vector<SquadFeature>& features, size_t first, size_t last) {
  std::vector<const std::vector<int32_t>*> ids, segments;
  for (size_t f = first; f < last; ++f) {
    ids.push_back(&features[f].input_ids);
    segments.push_back(&features[f].segment_ids);
  }
  return padded_inputs(ids, segments);
}

nlohmann::json score_json(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}
double score_from(const nlohmann::json& value, double otherwise) {
  return value.is_null() ? otherwise : value.get<double>();
}

class SpanFamily : public TaskFamily {
 public:
  explicit SpanFamily(const data::WordPieceTokenizer& tokenizer) : tokenizer_(tokenizer) {}

  TrainingRows read_training(const std::string& path, FinetunedModel& finetuned,
                             std::string& summary) override {
    const SquadFile file = read_squad_file(path);
    finetuned.format = "squad";
    finetuned.labels = LabelSet();
    SquadFeatureStats stats;
    const std::vector<SquadFeature> features =
        squad_features(file, tokenizer_, feature_options(finetuned), true, &stats);
    if (features.empty()) {
      throw std::runtime_error(path + ": no question has an answer that can be trained on");
    }
    TrainingRows rows = rows_of(features, 0, features.size());
    at::Tensor starts = at::empty({rows.count()}, at::kLong);
    at::Tensor ends = at::empty({rows.count()}, at::kLong);
    for (size_t f = 0; f < features.size(); ++f) {
      starts[int64_t(f)] = features[f].start, ends[int64_t(f)] = features[f].end;
    }
    rows.targets = {starts, ends};
    summary =
        std::string("SQuAD ") + (file.version == SquadVersion::kV2 ? "v2.0" : "v1.1") + ", " +
        std::to_string(file.articles) + " articles, " + std::to_string(file.examples.size()) +
        " train questions -> " + std::to_string(features.size()) + " windows of " +
        std::to_string(finetuned.max_seq_len) + " tokens (doc stride " +
        std::to_string(finetuned.span.doc_stride) + "; " + std::to_string(stats.long_questions) +
        " questions cut to " + std::to_string(finetuned.span.max_query_len) + " tokens; " +
        std::to_string(stats.skipped_unaligned) + " skipped: answer text not at answer_start)";
    return rows;
  }

  at::Tensor loss(const at::Tensor& logits, const std::vector<at::Tensor>& targets) override {
    return span_loss(logits.select(-1, 0), logits.select(-1, 1), targets.at(0), targets.at(1));
  }

  std::string read_evaluation(const FinetunedModel& finetuned, const std::string& path) override {
    auto found = cache_.find(path);
    if (found == cache_.end()) {
      Encoded encoded;
      encoded.file = read_squad_file(path);
      encoded.features =
          squad_features(encoded.file, tokenizer_, feature_options(finetuned), false);
      found = cache_.emplace(path, std::move(encoded)).first;
    }
    const SquadFile& file = found->second.file;
    std::string text = std::to_string(file.examples.size()) + " questions (" +
                       std::to_string(found->second.features.size()) + " windows)";
    if (file.unaligned_answers > 0) {
      text += ", " + std::to_string(file.unaligned_answers) +
              " gold answers not at their answer_start (scored as texts)";
    }
    return text;
  }

  Evaluation evaluate(FinetunedModel& finetuned, const std::string& path, long long batch_size,
                      dist::Communicator& communicator) override {
    read_evaluation(finetuned, path);
    const auto found = cache_.find(path);
    const SquadFile& file = found->second.file;
    const std::vector<SquadFeature>& features = found->second.features;
    // This rank's questions, and their windows (features are in question order).
    const auto [first_example, last_example] = rank_share(file.examples.size(), communicator);
    size_t first = 0, last = 0;
    while (first < features.size() && features[first].example < first_example) ++first;
    last = first;
    while (last < features.size() && features[last].example < last_example) ++last;
    const std::vector<SquadFeature> mine(features.begin() + long(first),
                                         features.begin() + long(last));
    std::vector<SpanLogits> logits(mine.size());
    predict_batches(finetuned, rows_of(features, first, last), batch_size,
                    [&](long long offset, const at::Tensor& out) {
                      for (int64_t i = 0; i < out.size(0); ++i) {
                        SpanLogits& l = logits[size_t(offset + i)];
                        const auto length = int64_t(mine[size_t(offset + i)].input_ids.size());
                        const at::Tensor row = out[i].narrow(0, 0, length).contiguous();
                        const at::Tensor start = row.select(1, 0).contiguous();
                        const at::Tensor end = row.select(1, 1).contiguous();
                        l.start.assign(start.data_ptr<float>(), start.data_ptr<float>() + length);
                        l.end.assign(end.data_ptr<float>(), end.data_ptr<float>() + length);
                      }
                    });
    const SpanDecodeOptions options{finetuned.span.n_best, finetuned.span.max_answer_len};
    nlohmann::json part = nlohmann::json::array();
    for (const SquadPrediction& p : decode_spans(file, mine, logits, options)) {
      part.push_back({p.id, p.text, score_json(p.span_score), score_json(p.null_score)});
    }
    last_predictions_.clear();
    for (const std::string& text : communicator.gather_to_root(part.dump())) {
      for (const auto& p : nlohmann::json::parse(text)) {
        last_predictions_.push_back({p[0].get<std::string>(), p[1].get<std::string>(),
                                     score_from(p[2], -std::numeric_limits<double>::infinity()),
                                     score_from(p[3], std::numeric_limits<double>::infinity())});
      }
    }
    last_file_ = &file;
    if (!communicator.is_root()) return {};
    Evaluation evaluation = scored(finetuned);
    evaluation.examples = (long long)file.examples.size();
    evaluation.rows = (long long)features.size();
    return evaluation;
  }

  std::string default_metric(const FinetunedModel&) const override { return "f1"; }

  void choose_on_dev(FinetunedModel& finetuned, Evaluation& evaluation) override {
    if (last_file_ == nullptr || last_file_->version != SquadVersion::kV2) return;
    if (!evaluation.metrics.contains("best_f1_thresh")) return;
    finetuned.span.null_threshold = evaluation.metrics["best_f1_thresh"].get<double>();
    const Evaluation rescored = scored(finetuned);
    evaluation.metrics = rescored.metrics, evaluation.predictions = rescored.predictions;
  }

  // dev: OUT/predictions.json, as HF's run_qa names its eval predictions.
  std::string predictions_name(const std::string& split) const override {
    return split == "dev" ? "predictions.json" : split + "_predictions.json";
  }

 private:
  // The last evaluation's answers at the model's null threshold, scored (rank 0).
  Evaluation scored(const FinetunedModel& finetuned) const {
    const SquadFile& file = *last_file_;
    const std::vector<SquadQuestion> questions = squad_questions(file);
    Evaluation evaluation;
    if (file.version == SquadVersion::kV1) {
      const auto answers = final_answers(last_predictions_, SquadVersion::kV1);
      evaluation.metrics = squad_v1_metrics(questions, answers);
      evaluation.predictions = nlohmann::json(answers).dump(2) + "\n";
      return evaluation;
    }
    // v2.0: the threshold search over the best spans (as the script receives them with
    // na_probs), then the answers at the model's threshold.
    const auto margins = null_margins(last_predictions_);
    const nlohmann::json search =
        squad_v2_metrics(questions, final_answers(last_predictions_, SquadVersion::kV1), margins);
    const auto answers =
        final_answers(last_predictions_, SquadVersion::kV2, finetuned.span.null_threshold);
    evaluation.metrics = squad_v2_metrics(questions, answers);
    for (const char* key : {"best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh"}) {
      if (search.contains(key)) evaluation.metrics[key] = search[key];
    }
    evaluation.metrics["null_threshold"] = finetuned.span.null_threshold;
    evaluation.predictions = nlohmann::json(answers).dump(2) + "\n";
    return evaluation;
  }

  struct Encoded {
    SquadFile file;
    std::vector<SquadFeature> features;
  };
  const data::WordPieceTokenizer& tokenizer_;
  std::map<std::string, Encoded> cache_;
  std::vector<SquadPrediction> last_predictions_;
  const SquadFile* last_file_ = nullptr;
};

}  // namespace

std::unique_ptr<TaskFamily> span_family(const data::WordPieceTokenizer& tokenizer) {
  return std::make_unique<SpanFamily>(tokenizer);
}

}  // namespace electra::finetune
