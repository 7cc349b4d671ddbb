// ELECTRA's dynamic masking, generator sampling and corruption (DESIGN.md section 3, steps 1-7),
// with tensor ops only and static shapes ([B, L] inputs, [B, P] masked positions with weights), so
// the whole step stays on the device without host synchronisation.
#pragma once

#include <ATen/Tensor.h>

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
  at::Tensor weights;          // [B, P] float: 1 for a chosen position, 0 for a padding slot
  at::Tensor targets;          // [B, P] the original tokens at `positions`
};

// Per sequence: candidates are real tokens other than [CLS], [SEP], [MASK]; count =
// max(1, min(P, round(len * mask_prob))) with len the real tokens (CLS/SEP included), but never
// more than the candidates; positions are drawn uniformly without duplicates.
// The number of positions masked in each sequence by that rule: [B] (long).
at::Tensor prediction_counts(const at::Tensor& input_ids, const at::Tensor& input_mask,
                             const MaskingOptions& options);

MaskedBatch mask_batch(const at::Tensor& input_ids, const at::Tensor& input_mask,
                       const MaskingOptions& options, const RowRandom& random = RowRandom());

// Gumbel-max sampling in fp32 without gradient: argmax(logits / temperature + g),
// g = -log(-log(U + 1e-9) + 1e-9). logits [B, P, V] -> token ids [B, P].
at::Tensor sample_tokens(const at::Tensor& logits, double temperature = 1.0,
                         const RowRandom& random = RowRandom());

struct CorruptedBatch {
  at::Tensor input_ids;  // [B, L] original tokens with the samples at every chosen position
  at::Tensor replaced;   // [B, L] float: 1 where the token differs from the original
};

// The discriminator's input: samples scattered into all chosen positions (also those whose token
// the generator saw unmasked); a sample equal to the original is labelled original.
CorruptedBatch corrupt(const at::Tensor& input_ids, const MaskedBatch& masked,
                       const at::Tensor& sampled);

}  // namespace electra::train
