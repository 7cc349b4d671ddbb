// From a QA head's start and end logits to answer texts, as BERT's run_squad (and ELECTRA's)
// decode them: over all windows of a question, the n best start and n best end positions of
// each window, pairs inside the context with end >= start, at most `max_answer_len` tokens, whose
// start has its most context in that window; the best pair by start + end logit is the answer,
// its text the context's bytes from the start token's first to the end token's last. For v2.0
// the null score (the [CLS] pair's, the lowest over the windows) against the best span's: the
// question is predicted unanswerable when null - best exceeds a threshold (chosen on dev by the
// v2.0 script's search, with null - best as its "no-answer probability").
#pragma once

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "app/finetune/squad_features.h"

namespace electra::finetune {

struct SpanLogits {
  std::vector<float> start, end;  // per position of one feature
};

struct SpanDecodeOptions {
  int n_best = 20, max_answer_len = 30;
};

struct SquadPrediction {
  std::string id, text;  // the best span's text ("" when no span qualifies)
  double span_score = -std::numeric_limits<double>::infinity();
  double null_score = std::numeric_limits<double>::infinity();    // lowest [CLS] start + end
  double null_margin() const { return null_score - span_score; }  // > threshold: no answer
};

// One prediction per example of `file` that has features, in example order. Throws
// std::invalid_argument when `logits` and `features` differ in count or a feature's logits in
// length.
std::vector<SquadPrediction> decode_spans(const SquadFile& file,
                                          const std::vector<SquadFeature>& features,
                                          const std::vector<SpanLogits>& logits,
                                          const SpanDecodeOptions& options);

// The answers to score or write (question id -> text): v1.1 the span texts; v2.0 "" where the
// null margin exceeds `null_threshold`.
std::map<std::string, std::string> final_answers(const std::vector<SquadPrediction>& predictions,
                                                 SquadVersion version, double null_threshold = 0);

// v2.0: the null margins by id, for squad_v2_metrics' threshold search.
std::map<std::string, double> null_margins(const std::vector<SquadPrediction>& predictions);

}  // namespace electra::finetune
