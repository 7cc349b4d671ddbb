// Whole-word masking (--whole-word-masking): the positions to predict are chosen word by word —
// a word is a token and the ## continuations after it — as BERT's whole-word script and hfl's
// Chinese ELECTRA do. The number of positions per sequence stays DESIGN.md section 3's count in
// tokens; words are taken in a random order and a word that would overflow the count is skipped
// (the next ones may still fit), so a sequence may end with fewer. Each chosen word is kept
// unmasked in the generator's input with keep_original_prob, all of its pieces alike. Chosen
// on the host, where the trainer already counts, with the row-keyed hash (row_random.h): a row's
// choice depends only on its key and its tokens. The device gets the positions in [B, P] slots
// (static shapes) and masks, samples and scores them as for token masking.
#pragma once

#include <cstdint>
#include <vector>

#include "app/train/masking.h"

namespace electra::train {

// For one row of `length` tokens: the chosen positions (pieces of a word next to each other, in
// order), at most `count` of them, and for each whether it keeps its token (1) or becomes
// [MASK] (0). `continuation[id]` is 1 for a ## piece.
struct WordChoice {
  std::vector<int32_t> positions;
  std::vector<uint8_t> keep;
};
WordChoice choose_whole_words(const int32_t* input_ids, const uint8_t* input_mask, int64_t length,
                              const std::vector<uint8_t>& continuation, int64_t count,
                              const MaskingOptions& options, uint64_t row_key);

// A batch's choices as the device takes them: [B, P] positions (0 in padding slots), [B, P]
// keep flags and [B] counts (the positions chosen).
struct BatchWordChoice {
  std::vector<int32_t> positions;
  std::vector<uint8_t> keep;
  std::vector<int32_t> counts;
};
BatchWordChoice choose_whole_words(const int32_t* input_ids, const uint8_t* input_mask,
                                   int64_t rows, int64_t length,
                                   const std::vector<uint8_t>& continuation,
                                   const MaskingOptions& options,
                                   const std::vector<uint64_t>& row_keys);

}  // namespace electra::train
