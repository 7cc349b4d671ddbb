#include "data/example_builder.h"

#include <algorithm>
#include <stdexcept>

namespace electra::data {

ExampleBuilder::ExampleBuilder(const SpecialTokenIds& special, long long max_length, uint64_t seed)
    : special_(special), max_length_(max_length), target_length_(max_length), rng_(seed) {
  if (max_length < 5) throw std::invalid_argument("--seq-len must be at least 5");
}

std::optional<Example> ExampleBuilder::add_line(std::vector<int32_t> ids, bool blank) {
  if (blank && current_length_ != 0) return create_example();
  current_length_ += (long long)ids.size();
  sentences_.push_back(std::move(ids));
  if (current_length_ >= target_length_) return create_example();
  return std::nullopt;
}

Example ExampleBuilder::create_example() {
  // 10%: one segment, as in classification tasks; -3 leaves room for [CLS] [SEP] [SEP].
  const long long first_target = rng_.uniform() < 0.1 ? 100000 : (target_length_ - 3) / 2;
  std::vector<int32_t> first, second;
  for (auto& sentence : sentences_) {
    const auto first_size = (long long)first.size();
    if (first.empty() || first_size + (long long)sentence.size() < first_target ||
        (second.empty() && first_size < first_target && rng_.uniform() < 0.5)) {
      first.insert(first.end(), sentence.begin(), sentence.end());
    } else {
      second.insert(second.end(), sentence.begin(), sentence.end());
    }
  }
  first.resize(std::min<size_t>(first.size(), size_t(max_length_ - 2)));
  second.resize(std::min<size_t>(
      second.size(), size_t(std::max<long long>(0, max_length_ - (long long)first.size() - 3))));
  sentences_.clear();
  current_length_ = 0;
  target_length_ = rng_.uniform() < 0.05 ? rng_.randint(5, max_length_) : max_length_;

  Example example;
  example.input_ids.reserve(size_t(max_length_));
  example.input_ids.push_back(special_.cls);
  example.input_ids.insert(example.input_ids.end(), first.begin(), first.end());
  example.input_ids.push_back(special_.sep);
  example.segment_ids.assign(example.input_ids.size(), 0);
  if (!second.empty()) {
    example.input_ids.insert(example.input_ids.end(), second.begin(), second.end());
    example.input_ids.push_back(special_.sep);
    example.segment_ids.resize(example.input_ids.size(), 1);
  }
  example.input_mask.assign(example.input_ids.size(), 1);
  example.input_ids.resize(size_t(max_length_), 0);
  example.input_mask.resize(size_t(max_length_), 0);
  example.segment_ids.resize(size_t(max_length_), 0);
  return example;
}

}  // namespace electra::data
