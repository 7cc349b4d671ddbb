#include "app/finetune/task_encoding.h"

#include <ATen/Functions.h>
#include <cmath>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace electra::finetune {

namespace {

bool is_integer(const std::string& text) {
  if (text.empty() || text.size() > 18) return false;
  size_t start = text[0] == '-' ? 1 : 0;
  return start < text.size() && std::all_of(text.begin() + long(start), text.end(),
                                            [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

TaskType task_type_from(const std::string& name) {
  if (name == "classification") return TaskType::kClassification;
  if (name == "regression") return TaskType::kRegression;
  if (name == "span") return TaskType::kSpan;
  if (name == "token") return TaskType::kToken;
  throw std::invalid_argument(
      "--task-type must be classification, regression, span or token, not '" + name + "'");
}

std::string to_string(TaskType type) {
  switch (type) {
    case TaskType::kClassification:
      return "classification";
    case TaskType::kRegression:
      return "regression";
    case TaskType::kSpan:
      return "span";
    case TaskType::kToken:
      return "token";
  }
  return "classification";
}

LabelSet LabelSet::from_examples(const std::vector<data::TaskExample>& examples) {
  std::set<std::string> distinct;
  for (const auto& example : examples) distinct.insert(example.label);
  std::vector<std::string> labels(distinct.begin(), distinct.end());
  if (std::all_of(labels.begin(), labels.end(), is_integer)) {
    std::sort(labels.begin(), labels.end(), [](const std::string& a, const std::string& b) {
      return std::stoll(a) < std::stoll(b);
    });
  }
  return LabelSet(std::move(labels));
}

int LabelSet::index(const std::string& label) const {
  const auto found = std::find(labels_.begin(), labels_.end(), label);
  if (found == labels_.end()) {
    std::string known;
    for (const auto& l : labels_) known += (known.empty() ? "" : ", ") + l;
    throw std::runtime_error("label '" + label + "' is not one of the model's labels (" + known +
                             ")");
  }
  return int(found - labels_.begin());
}

int LabelSet::positive() const {
  const auto one = std::find(labels_.begin(), labels_.end(), "1");
  return one != labels_.end() ? int(one - labels_.begin()) : size() - 1;
}

EncodedTask encode_task(const data::TaskFile& file, const data::WordPieceTokenizer& tokenizer,
                        long long max_seq_len, TaskType type, const LabelSet& labels) {
  const long long specials = file.pairs ? 3 : 2;
  if (max_seq_len < specials + 2) {
    throw std::invalid_argument("--max-seq-len " + std::to_string(max_seq_len) +
                                " leaves no room for text");
  }
  const auto n = (long long)file.examples.size();
  EncodedTask encoded;
  encoded.input_ids = at::zeros({n, max_seq_len}, at::kLong);
  encoded.input_mask = at::zeros({n, max_seq_len}, at::kLong);
  encoded.segment_ids = at::zeros({n, max_seq_len}, at::kLong);
  if (file.labelled) {
    encoded.targets =
        type == TaskType::kClassification ? at::zeros({n}, at::kLong) : at::zeros({n}, at::kFloat);
  }
  auto ids = encoded.input_ids.accessor<int64_t, 2>();
  auto mask = encoded.input_mask.accessor<int64_t, 2>();
  auto segments = encoded.segment_ids.accessor<int64_t, 2>();
  const auto& special = tokenizer.vocab().special();
  std::vector<int32_t> a, b;
  for (long long i = 0; i < n; ++i) {
    const data::TaskExample& example = file.examples[size_t(i)];
    a.clear(), b.clear();
    tokenizer.encode(example.text_a, a);
    if (file.pairs) tokenizer.encode(example.text_b, b);
    const size_t budget = size_t(max_seq_len - specials);
    if (a.size() + b.size() > budget) ++encoded.truncated;
    while (a.size() + b.size() > budget) (a.size() >= b.size() ? a : b).pop_back();
    long long position = 0;
    const auto put = [&](int32_t id, int64_t segment) {
      ids[i][position] = id, mask[i][position] = 1, segments[i][position] = segment;
      ++position;
    };
    put(special.cls, 0);
    for (int32_t id : a) put(id, 0);
    put(special.sep, 0);
    if (file.pairs) {
      for (int32_t id : b) put(id, 1);
      put(special.sep, 1);
    }
    if (!file.labelled) continue;
    if (type == TaskType::kClassification) {
      encoded.targets[i] = labels.index(example.label);
    } else {
      try {
        size_t used = 0;
        const double value = std::stod(example.label, &used);
        if (used != example.label.size() || !std::isfinite(value)) {
          throw std::invalid_argument(example.label);
        }
        encoded.targets[i] = value;
      } catch (const std::exception&) {
        throw std::runtime_error("example " + std::to_string(i + 1) + ": label '" + example.label +
                                 "' is not a finite number (regression task)");
      }
    }
  }
  return encoded;
}

}  // namespace electra::finetune
