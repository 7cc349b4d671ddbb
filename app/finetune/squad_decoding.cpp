#include "app/finetune/squad_decoding.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace electra::finetune {
namespace {

// The positions of the `n` largest values (ties: the earlier position first).
std::vector<size_t> best_positions(const std::vector<float>& values, int n) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t keep = std::min(order.size(), size_t(std::max(n, 0)));
  std::partial_sort(order.begin(), order.begin() + long(keep), order.end(),
                    [&](size_t a, size_t b) { return values[a] > values[b]; });
  order.resize(keep);
  return order;
}

}  // namespace

std::vector<SquadPrediction> decode_spans(const SquadFile& file,
                                          const std::vector<SquadFeature>& features,
                                          const std::vector<SpanLogits>& logits,
                                          const SpanDecodeOptions& options) {
  if (features.size() != logits.size()) {
    throw std::invalid_argument("logits for " + std::to_string(logits.size()) + " features, " +
                                std::to_string(features.size()) + " features");
  }
  std::vector<SquadPrediction> predictions;
  for (size_t f = 0; f < features.size(); ++f) {
    const SquadFeature& feature = features[f];
    const SpanLogits& scores = logits[f];
    if (scores.start.size() != feature.input_ids.size() ||
        scores.end.size() != feature.input_ids.size()) {
      throw std::invalid_argument("feature " + std::to_string(f) + ": logits of another length");
    }
    const SquadExample& example = file.examples.at(feature.example);
    if (predictions.empty() || predictions.back().id != example.id) {
      predictions.push_back({example.id, "", -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::infinity()});
    }
    SquadPrediction& prediction = predictions.back();
    prediction.null_score =
        std::min(prediction.null_score, double(scores.start[0]) + double(scores.end[0]));
    // Context positions: from context_begin to the last before the final [SEP].
    const auto in_context = [&](size_t position) {
      return int64_t(position) >= feature.context_begin && position + 1 < feature.input_ids.size();
    };
    for (size_t s : best_positions(scores.start, options.n_best)) {
      if (!in_context(s) || !feature.max_context[s]) continue;
      for (size_t e : best_positions(scores.end, options.n_best)) {
        if (!in_context(e) || e < s || int64_t(e - s + 1) > options.max_answer_len) continue;
        const double score = double(scores.start[s]) + double(scores.end[e]);
        if (score <= prediction.span_score) continue;
        prediction.span_score = score;
        const size_t begin = feature.spans[s].begin, end = feature.spans[e].end;
        prediction.text = example.context.substr(begin, end > begin ? end - begin : 0);
      }
    }
  }
  return predictions;
}

std::map<std::string, std::string> final_answers(const std::vector<SquadPrediction>& predictions,
                                                 SquadVersion version, double null_threshold) {
  std::map<std::string, std::string> answers;
  for (const auto& prediction : predictions) {
    const bool unanswerable =
        version == SquadVersion::kV2 && prediction.null_margin() > null_threshold;
    answers[prediction.id] = unanswerable ? "" : prediction.text;
  }
  return answers;
}

std::map<std::string, double> null_margins(const std::vector<SquadPrediction>& predictions) {
  std::map<std::string, double> margins;
  for (const auto& prediction : predictions) margins[prediction.id] = prediction.null_margin();
  return margins;
}

}  // namespace electra::finetune
