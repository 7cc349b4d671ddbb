#include "app/train/masking.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace electra::train {

namespace {

// [B, L] input_ids plus `change` [B, P] at `positions` [B, P]. Padding slots carry a zero change
// (whatever position they point at), so the result is deterministic, unlike a scatter whose
// padding slots could collide with a chosen position.
at::Tensor add_at_positions(const at::Tensor& input_ids, const at::Tensor& positions,
                            const at::Tensor& change) {
  return input_ids + at::zeros_like(input_ids).scatter_add(1, positions, change);
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
  // round() of TF/numpy: half to even, as torch::round; the product in fp32.
  const at::Tensor count = at::round(length.to(at::kFloat) * options.mask_prob).to(at::kLong);
  return at::minimum(count.clamp(1, options.max_predictions),
                     prediction_candidates(input_ids, input_mask, options).sum(1));
}

int64_t prediction_count(const int32_t* input_ids, const uint8_t* input_mask, int64_t length,
                         const MaskingOptions& options) {
  int64_t real = 0, candidates = 0;
  for (int64_t i = 0; i < length; ++i) {
    if (!input_mask[i]) continue;
    ++real;
    const int64_t id = input_ids[i];
    candidates += id != options.cls_id && id != options.sep_id && id != options.mask_id;
  }
  // As the tensor version: the product in fp32, rounded half to even (the default rounding mode).
  const float product = float(real) * float(options.mask_prob);
  const int64_t count = int64_t(std::nearbyint(product));
  return std::min(std::clamp<int64_t>(count, 1, options.max_predictions), candidates);
}

int64_t max_predictions_per_seq(double mask_prob, int64_t max_seq_length) {
  return int64_t((mask_prob + 0.005) * double(max_seq_length));
}

MaskedBatch mask_batch(const at::Tensor& input_ids, const at::Tensor& input_mask,
                       const MaskingOptions& options, const RowRandom& random,
                       const at::Tensor& counts, const at::Tensor& chosen_positions,
                       const at::Tensor& keep_original) {
  at::NoGradGuard no_grad;
  const bool given = chosen_positions.defined();
  if (given && !counts.defined()) {
    throw std::logic_error("mask_batch: chosen positions without their counts");
  }
  const at::Tensor count =
      counts.defined() ? counts : prediction_counts(input_ids, input_mask, options);  // [B]
  const int64_t rows = input_ids.size(0), length = input_ids.size(1);
  const int64_t p_max = options.max_predictions;
  const StepDraws draws = random.step_draws(rows, length, p_max, input_ids.device());

  at::Tensor positions;
  if (given) {
    positions = chosen_positions;
  } else {
    // Uniform subsets without duplicates: the candidates with the P highest random scores.
    const at::Tensor candidates = prediction_candidates(input_ids, input_mask, options);
    const at::Tensor scores = draws.position_scores.masked_fill(
        candidates.logical_not(), std::numeric_limits<int64_t>::min());
    const int64_t p = std::min(p_max, length);
    positions = std::get<1>(scores.topk(p, /*dim=*/1));  // [B, p]
    if (p < p_max) {  // sequences shorter than P: pad to the static shape
      positions = at::constant_pad_nd(positions, {0, p_max - p}, 0);
    }
  }
  const at::Tensor slot = at::arange(p_max, input_ids.options());  // [P]
  const at::Tensor chosen = slot.lt(count.unsqueeze(1));           // [B, P]
  positions = positions * chosen;                                  // padding slots point at 0
  const at::Tensor targets = input_ids.gather(1, positions);

  // 85% of the chosen positions become [MASK]; 15% keep their token. No random replacement.
  const at::Tensor masked =
      (given ? keep_original.logical_not() : draws.keep_uniforms.ge(options.keep_original_prob)) &
      chosen;
  const at::Tensor change = masked * at::rsub(targets, options.mask_id);  // [MASK] - target
  return {add_at_positions(input_ids, positions, change),
          positions,
          chosen,
          chosen.to(at::kFloat),
          targets,
          draws.sample_uniforms};
}

at::Tensor sample_tokens(const at::Tensor& logits, double temperature, const at::Tensor& uniforms) {
  at::NoGradGuard no_grad;  // (no graph: no detach needed)
  at::Tensor scaled = logits;
  if (scaled.scalar_type() != at::kFloat) scaled = scaled.to(at::kFloat);
  if (temperature != 1.0) scaled = scaled / temperature;
  const at::Tensor cumulative = at::softmax(scaled, -1).cumsum(-1);  // [B, P, V]
  const int64_t vocab = cumulative.size(-1);
  // u * total rather than u: the sum may miss 1 by rounding.
  const at::Tensor target = cumulative.narrow(-1, vocab - 1, 1) * uniforms.unsqueeze(-1);
  const at::Tensor token =
      at::searchsorted(cumulative, target, /*out_int32=*/false, /*right=*/true).squeeze(-1);
  return token.clamp_max(vocab - 1);
}

CorruptedBatch corrupt(const at::Tensor& input_ids, const MaskedBatch& masked,
                       const at::Tensor& sampled) {
  at::NoGradGuard no_grad;
  const at::Tensor change = masked.chosen * (sampled - masked.targets);
  const at::Tensor corrupted = add_at_positions(input_ids, masked.positions, change);
  return {corrupted, corrupted.ne(input_ids).to(at::kFloat)};
}

}  // namespace electra::train
