#include "app/train/masking.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

namespace electra::train {

namespace {

// [B, L] zeros with `change` [B, P] added at `positions` [B, P]. Padding slots carry a zero change
// (whatever position they point at), so the result is deterministic, unlike a scatter whose
// padding slots could collide with a chosen position.
at::Tensor scatter_changes(const at::Tensor& like, const at::Tensor& positions,
                           const at::Tensor& change) {
  return at::zeros_like(like).scatter_add(1, positions, change);
}

// [B, L] real tokens other than [CLS], [SEP], [MASK]
at::Tensor prediction_candidates(const at::Tensor& input_ids, const at::Tensor& input_mask,
                                 const MaskingOptions& options) {
  return input_mask.to(at::kBool) & input_ids.ne(options.cls_id) & input_ids.ne(options.sep_id) &
         input_ids.ne(options.mask_id);
}

}  // namespace

at::Tensor prediction_counts(const at::Tensor& input_ids, const at::Tensor& input_mask,
                             const MaskingOptions& options) {
  at::NoGradGuard no_grad;
  const at::Tensor length = input_mask.to(at::kBool).sum(1);  // [B]
  // round() of TF/numpy: half to even, as torch::round.
  const at::Tensor count = at::round(length.to(at::kFloat) * options.mask_prob).to(at::kLong);
  return at::minimum(count.clamp(1, options.max_predictions),
                     prediction_candidates(input_ids, input_mask, options).sum(1));
}

int64_t max_predictions_per_seq(double mask_prob, int64_t max_seq_length) {
  return int64_t((mask_prob + 0.005) * double(max_seq_length));
}

MaskedBatch mask_batch(const at::Tensor& input_ids, const at::Tensor& input_mask,
                       const MaskingOptions& options, const RowRandom& random) {
  at::NoGradGuard no_grad;
  const auto float_options = input_ids.options().dtype(at::kFloat);
  const at::Tensor candidates = prediction_candidates(input_ids, input_mask, options);  // [B, L]
  const at::Tensor count = prediction_counts(input_ids, input_mask, options);           // [B]

  // Uniform subsets without duplicates: the P largest of iid uniforms over the candidates.
  at::Tensor scores = random.uniform(Draw::kMaskPositions, input_ids.sizes(), float_options);
  scores = scores.masked_fill(candidates.logical_not(), -1.0);
  const int64_t p = std::min<int64_t>(options.max_predictions, input_ids.size(1));
  at::Tensor positions = std::get<1>(scores.topk(p, /*dim=*/1));            // [B, P]
  const at::Tensor slot = at::arange(p, input_ids.options()).unsqueeze(0);  // [1, P]
  const at::Tensor chosen = slot.lt(count.unsqueeze(1));                    // [B, P]
  positions = positions.masked_fill(chosen.logical_not(), 0);
  if (p < options.max_predictions) {  // sequences shorter than P: pad to the static shape
    positions = at::constant_pad_nd(positions, {0, options.max_predictions - p}, 0);
  }
  const at::Tensor weights =
      at::constant_pad_nd(chosen.to(at::kFloat), {0, options.max_predictions - p}, 0);
  const at::Tensor targets = input_ids.gather(1, positions);

  // 85% of the chosen positions become [MASK]; 15% keep their token. No random replacement.
  const at::Tensor masked = random.uniform(Draw::kKeepOriginal, positions.sizes(), float_options)
                                .ge(options.keep_original_prob) &
                            weights.gt(0);
  const at::Tensor change = masked.to(input_ids.scalar_type()) * (options.mask_id - targets);
  return {input_ids + scatter_changes(input_ids, positions, change), positions, weights, targets};
}

at::Tensor sample_tokens(const at::Tensor& logits, double temperature, const RowRandom& random) {
  at::NoGradGuard no_grad;
  const at::Tensor scaled = logits.detach().to(at::kFloat) / temperature;
  const at::Tensor u = random.uniform(Draw::kGumbel, scaled.sizes(), scaled.options());
  const at::Tensor gumbel = -at::log(-at::log(u + 1e-9) + 1e-9);
  return (scaled + gumbel).argmax(-1);
}

CorruptedBatch corrupt(const at::Tensor& input_ids, const MaskedBatch& masked,
                       const at::Tensor& sampled) {
  at::NoGradGuard no_grad;
  const at::Tensor change = masked.weights.gt(0).to(input_ids.scalar_type()) *
                            (sampled.to(input_ids.scalar_type()) - masked.targets);
  const at::Tensor corrupted = input_ids + scatter_changes(input_ids, masked.positions, change);
  return {corrupted, corrupted.ne(input_ids).to(at::kFloat)};
}

}  // namespace electra::train
