#include "app/train/whole_word_masking.h"

#include <algorithm>
#include <stdexcept>

#include "app/train/row_random.h"

namespace electra::train {

namespace {

// The top 23 bits of a hash as a uniform in (0, 1), as the device's draws.
double uniform_of(uint64_t hash) {
  return (double(hash >> 41) + 0.5) / double(1 << 23);
}

}  // namespace

WordChoice choose_whole_words(const int32_t* input_ids, const uint8_t* input_mask, int64_t length,
                              const std::vector<uint8_t>& continuation, int64_t count,
                              const MaskingOptions& options, uint64_t row_key) {
  // Words: [first, end) spans of candidates (real tokens other than [CLS], [SEP], [MASK]); a ##
  // piece continues the word before it unless that was no candidate.
  struct Word {
    int32_t first, end;
    uint64_t score;
  };
  std::vector<Word> words;
  bool previous_candidate = false;
  for (int64_t i = 0; i < length; ++i) {
    const int32_t id = input_ids[i];
    const bool candidate =
        input_mask[i] && id != options.cls_id && id != options.sep_id && id != options.mask_id;
    if (candidate) {
      const bool continues = previous_candidate && id >= 0 && size_t(id) < continuation.size() &&
                             continuation[size_t(id)];
      if (continues) {
        words.back().end = int32_t(i + 1);
      } else {
        words.push_back({int32_t(i), int32_t(i + 1),
                         counter_hash(row_key, draw_counter(Draw::kMaskPositions, uint64_t(i)))});
      }
    }
    previous_candidate = candidate;
  }
  // A random order: by score, highest first (a tie, which needs equal 64-bit hashes, by place).
  std::stable_sort(words.begin(), words.end(),
                   [](const Word& a, const Word& b) { return a.score > b.score; });
  WordChoice choice;
  for (const Word& word : words) {
    const int64_t pieces = word.end - word.first;
    if (int64_t(choice.positions.size()) >= count) break;
    if (int64_t(choice.positions.size()) + pieces > count) continue;  // would overflow: skipped
    const double u =
        uniform_of(counter_hash(row_key, draw_counter(Draw::kKeepOriginal, uint64_t(word.first))));
    const uint8_t keep = u < options.keep_original_prob;
    for (int32_t i = word.first; i < word.end; ++i) {
      choice.positions.push_back(i);
      choice.keep.push_back(keep);
    }
  }
  return choice;
}

BatchWordChoice choose_whole_words(const int32_t* input_ids, const uint8_t* input_mask,
                                   int64_t rows, int64_t length,
                                   const std::vector<uint8_t>& continuation,
                                   const MaskingOptions& options,
                                   const std::vector<uint64_t>& row_keys) {
  if (int64_t(row_keys.size()) != rows) {
    throw std::logic_error("choose_whole_words: keys for another number of rows");
  }
  const int64_t p = options.max_predictions;
  BatchWordChoice batch;
  batch.positions.assign(size_t(rows * p), 0);
  batch.keep.assign(size_t(rows * p), 0);
  batch.counts.resize(size_t(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* ids = input_ids + r * length;
    const uint8_t* mask = input_mask + r * length;
    const int64_t count = prediction_count(ids, mask, length, options);
    const WordChoice row =
        choose_whole_words(ids, mask, length, continuation, count, options, row_keys[size_t(r)]);
    std::copy(row.positions.begin(), row.positions.end(), batch.positions.begin() + r * p);
    std::copy(row.keep.begin(), row.keep.end(), batch.keep.begin() + r * p);
    batch.counts[size_t(r)] = int32_t(row.positions.size());
  }
  return batch;
}

}  // namespace electra::train
