#include "app/finetune/squad_features.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace electra::finetune {
namespace {

struct Window {
  int64_t start, length;  // in context tokens
};

// BERT's doc spans: windows of up to `max_tokens`, `stride` apart, the last reaching the end.
std::vector<Window> windows(int64_t tokens, int64_t max_tokens, int64_t stride) {
  std::vector<Window> out;
  for (int64_t start = 0; start < tokens || out.empty();) {
    const int64_t length = std::min(tokens - start, max_tokens);
    out.push_back({start, length});
    if (start + length >= tokens) break;
    start += std::min(length, stride);
  }
  return out;
}

// _check_is_max_context: the window where token `position` has the largest
// min(left context, right context) + 0.01 * window length (the first such window on ties).
bool is_max_context(const std::vector<Window>& all, size_t current, int64_t position) {
  double best_score = -1;
  size_t best = 0;
  for (size_t w = 0; w < all.size(); ++w) {
    const Window& window = all[w];
    const int64_t end = window.start + window.length - 1;
    if (position < window.start || position > end) continue;
    const double score =
        double(std::min(position - window.start, end - position)) + 0.01 * double(window.length);
    if (score > best_score) best_score = score, best = w;
  }
  return best == current;
}

// _improve_answer_span: within [start, end], the sub-span whose ids are the answer text's own
// tokens, when there is one (an answer "1990" inside the word "1990s").
std::pair<int64_t, int64_t> improve_span(const std::vector<int32_t>& ids, int64_t start,
                                         int64_t end, const std::vector<int32_t>& answer) {
  for (int64_t s = start; s <= end; ++s) {
    for (int64_t e = end; e >= s; --e) {
      if (e - s + 1 == int64_t(answer.size()) &&
          std::equal(answer.begin(), answer.end(), ids.begin() + s)) {
        return {s, e};
      }
    }
  }
  return {start, end};
}

}  // namespace

std::vector<SquadFeature> squad_features(const SquadFile& file,
                                         const data::WordPieceTokenizer& tokenizer,
                                         const SquadFeatureOptions& options, bool training,
                                         SquadFeatureStats* stats) {
  if (options.max_query_len < 1) throw std::invalid_argument("--max-query-len must be 1 or more");
  if (options.doc_stride < 1) throw std::invalid_argument("--doc-stride must be 1 or more");
  if (options.max_seq_len <= options.max_query_len + 3) {
    throw std::invalid_argument("--max-seq-len (" + std::to_string(options.max_seq_len) +
                                ") must be above --max-query-len (" +
                                std::to_string(options.max_query_len) +
                                ") + 3, to leave room for the context");
  }
  SquadFeatureStats local;
  SquadFeatureStats& counts = stats ? *stats : local;
  const data::SpecialTokenIds& special = tokenizer.vocab().special();
  std::vector<SquadFeature> features;
  for (size_t e = 0; e < file.examples.size(); ++e) {
    const SquadExample& example = file.examples[e];
    // The training target in context bytes (BERT trains on the first answer).
    bool has_target = false;
    size_t answer_begin = 0, answer_end = 0;
    if (training && !example.impossible && !example.answers.empty()) {
      const SquadAnswer& answer = example.answers.front();
      if (!answer.aligned || answer.text.empty()) {
        ++counts.skipped_unaligned;
        continue;
      }
      has_target = true;
      answer_begin = size_t(answer.start), answer_end = size_t(answer.start) + answer.text.size();
    }
    std::vector<int32_t> question;
    tokenizer.encode(example.question, question);
    if (int64_t(question.size()) > options.max_query_len) {
      question.resize(size_t(options.max_query_len));
      ++counts.long_questions;
    }
    std::vector<int32_t> context;
    std::vector<data::TokenSpan> spans;
    tokenizer.encode_with_spans(example.context, context, spans);
    // The answer's tokens: the first that ends after its start to the last that begins before
    // its end, narrowed to the answer's own tokens.
    int64_t token_begin = -1, token_end = -1;
    if (has_target) {
      for (size_t i = 0; i < spans.size(); ++i) {
        if (spans[i].end > answer_begin && spans[i].begin < answer_end) {
          if (token_begin < 0) token_begin = int64_t(i);
          token_end = int64_t(i);
        }
      }
      if (token_begin < 0) {  // an answer of white space only
        ++counts.skipped_unaligned;
        continue;
      }
      std::vector<int32_t> answer_ids;
      tokenizer.encode(example.answers.front().text, answer_ids);
      std::tie(token_begin, token_end) = improve_span(context, token_begin, token_end, answer_ids);
    }
    ++counts.examples;
    const int64_t max_tokens = options.max_seq_len - int64_t(question.size()) - 3;
    const std::vector<Window> all =
        windows(int64_t(context.size()), max_tokens, options.doc_stride);
    for (size_t w = 0; w < all.size(); ++w) {
      const Window& window = all[w];
      SquadFeature feature;
      feature.example = e;
      feature.window = int(w);
      feature.input_ids.push_back(special.cls);
      feature.input_ids.insert(feature.input_ids.end(), question.begin(), question.end());
      feature.input_ids.push_back(special.sep);
      feature.segment_ids.assign(feature.input_ids.size(), 0);
      feature.spans.assign(feature.input_ids.size(), data::TokenSpan{});
      feature.max_context.assign(feature.input_ids.size(), 0);
      feature.context_begin = int64_t(feature.input_ids.size());
      feature.context_offset = window.start;
      for (int64_t i = window.start; i < window.start + window.length; ++i) {
        feature.input_ids.push_back(context[size_t(i)]);
        feature.spans.push_back(spans[size_t(i)]);
        feature.max_context.push_back(is_max_context(all, w, i) ? 1 : 0);
      }
      feature.input_ids.push_back(special.sep);
      feature.spans.push_back({});
      feature.max_context.push_back(0);
      feature.segment_ids.resize(feature.input_ids.size(), 1);
      if (has_target && token_begin >= window.start && token_end < window.start + window.length) {
        feature.start = feature.context_begin + token_begin - window.start;
        feature.end = feature.context_begin + token_end - window.start;
      }
      features.push_back(std::move(feature));
      ++counts.features;
    }
  }
  return features;
}

}  // namespace electra::finetune
