// The ELECTRA forward pass of one batch (DESIGN.md section 3): dynamic masking, the generator at
// the masked positions, sampling, the corrupted input, the discriminator and
// total = gen_weight * MLM + disc_weight * RTD — or what another strategy's objective trains.
// Everything stays on the batch's device; nothing is read back to the host here. Under autocast
// the vocabulary projection, the sampling and the losses stay fp32.
#pragma once

#include "app/model/electra_model.h"
#include "app/train/masking.h"

namespace electra::train {

struct Batch {
  at::Tensor input_ids;    // [B, L] long
  at::Tensor input_mask;   // [B, L] long
  at::Tensor segment_ids;  // [B, L] long
  // What the losses' sums are divided by; 0: this batch's own counts of masked positions and of
  // real tokens (the mean). Data parallelism passes global counts / ranks (see Trainer).
  double mlm_denominator = 0, disc_denominator = 0;
  // Filled by the trainer from its host copy of the batch (app/train/batch_staging.h), so the
  // device need not count: the denominators [2] float (MLM, RTD; instead of the doubles above),
  // the rows' masked-position counts [B] long (prediction_counts), the rows' random keys [B]
  // int64 (RowRandom), and whether any row is padded (false: attention takes no mask).
  at::Tensor denominators, prediction_counts, row_keys;
  // Whole-word masking: the positions chosen on the host [B, P] long (prediction_counts are then
  // the positions chosen per row) and whether each keeps its token [B, P] bool; undefined: the
  // device draws token positions.
  at::Tensor mask_positions, keep_original;
  bool has_padding = true;
};

// What a step trains.
enum class Objective {
  kJoint,        // gen_weight * MLM + disc_weight * RTD (the paper's ELECTRA)
  kAdversarial,  // gen_weight * REINFORCE + disc_weight * RTD (app/train/adversarial.h)
  // Two-stage training (app/train/two_stage.h): the generator alone by MLM (no sampling, no
  // discriminator), then the discriminator alone by RTD on a frozen generator's samples (the
  // generator runs without a graph).
  kGeneratorOnly,
  kDiscriminatorOnly,
};

struct StepOptions {
  MaskingOptions masking;
  double temperature = 1.0;
  double generator_weight = 1.0;
  double discriminator_weight = 50.0;
  Objective objective = Objective::kJoint;
  // kAdversarial: the reward baseline (a scalar on the device, or the double when undefined)
  double reward_baseline = 0.0, entropy_weight = 0.0;
  at::Tensor reward_baseline_tensor;
};

struct StepOutput {
  // Scalars; total carries the graph. disc_loss is undefined with kGeneratorOnly, as are
  // corrupted_samples, corrupted and disc_logits.
  at::Tensor total, mlm_loss, disc_loss;
  // adversarial only: the REINFORCE loss, the mean reward and entropy at the masked positions
  at::Tensor reinforce_loss, mean_reward, entropy;
  MaskedBatch masked;
  at::Tensor generator_logits;   // [B, P, V] fp32
  at::Tensor corrupted_samples;  // [B, P] the generator's samples at the masked positions
  CorruptedBatch corrupted;
  at::Tensor disc_logits;  // [B, L]
};

// `random` draws the masks and samples: keyed by batch.row_keys when the batch has them and no
// other source is given.
StepOutput electra_forward(model::ElectraModelImpl& model, const Batch& batch,
                           const StepOptions& options, const RowRandom& random = RowRandom());

}  // namespace electra::train
