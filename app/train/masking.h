// ELECTRA's dynamic masking, generator sampling and corruption (DESIGN.md section 3, steps 1-7),
// with tensor ops only and static shapes ([B, L] inputs, [B, P] masked positions with weights), so
// the whole step stays on the device without host synchronisation, in a fixed number of operator
// calls whatever the batch size.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

#include "app/train/row_random.h"

namespace electra::train {

struct MaskingOptions {
  double mask_prob = 0.15;
  double keep_original_prob =
      0.15;                      // of the chosen positions, kept unmasked in the generator input
  int64_t max_predictions = 19;  // P
  int64_t mask_id = 103, cls_id = 101, sep_id = 102;
};

// P = int((mask_prob + 0.005) * max_seq_length): 19 at 128, 79 at 512.
int64_t max_predictions_per_seq(double mask_prob, int64_t max_seq_length);

struct MaskedBatch {
  at::Tensor generator_input;  // [B, L] input_ids with [MASK] at most chosen positions
  at::Tensor positions;        // [B, P] chosen positions (0 in padding slots)
  at::Tensor chosen;           // [B, P] bool: a chosen position, not a padding slot
  at::Tensor weights;          // [B, P] float: 1 for a chosen position, 0 for a padding slot
  at::Tensor targets;          // [B, P] the original tokens at `positions`
  at::Tensor sample_uniforms;  // [B, P] the uniforms the generator's samples are drawn with
};

// Per sequence: candidates are real tokens other than [CLS], [SEP], [MASK]; count =
// max(1, min(P, round(len * mask_prob))) with len the real tokens (CLS/SEP included), but never
// more than the candidates; positions are drawn uniformly without duplicates.
// The number of positions masked in each sequence by that rule: [B] (long).
at::Tensor prediction_counts(const at::Tensor& input_ids, const at::Tensor& input_mask,
                             const MaskingOptions& options);
// The same rule on the host, for one row of `length` tokens (the trainer counts there, from the
// batch it is about to copy to the device).
int64_t prediction_count(const int32_t* input_ids, const uint8_t* input_mask, int64_t length,
                         const MaskingOptions& options);

// `counts` [B]: prediction_counts of the batch when known (computed here otherwise).
// `chosen_positions` [B, P] long and `keep_original` [B, P] bool, when defined: the positions
// were chosen already (whole_word_masking.h; `counts` then required: the positions chosen per
// row), and whether each keeps its token; the random positions and keep draws are not used.
MaskedBatch mask_batch(const at::Tensor& input_ids, const at::Tensor& input_mask,
                       const MaskingOptions& options, const RowRandom& random = RowRandom(),
                       const at::Tensor& counts = {}, const at::Tensor& chosen_positions = {},
                       const at::Tensor& keep_original = {});

// The generator's samples in fp32 without gradient, by inverse transform sampling: for each
// masked slot the first token whose cumulative probability under softmax(logits / temperature)
// exceeds u * (the total), u from `uniforms` [B, P] — a draw from the same distribution as the
// reference's Gumbel-max argmax(logits / temperature + g), with one random number per slot
// instead of one per vocabulary entry. logits [B, P, V] -> token ids [B, P].
at::Tensor sample_tokens(const at::Tensor& logits, double temperature, const at::Tensor& uniforms);

struct CorruptedBatch {
  at::Tensor input_ids;  // [B, L] original tokens with the samples at every chosen position
  at::Tensor replaced;   // [B, L] float: 1 where the token differs from the original
};

// The discriminator's input: samples scattered into all chosen positions (also those whose token
// the generator saw unmasked); a sample equal to the original is labelled original.
CorruptedBatch corrupt(const at::Tensor& input_ids, const MaskedBatch& masked,
                       const at::Tensor& sampled);

}  // namespace electra::train
