// The joint ELECTRA forward pass of one batch (DESIGN.md section 3): dynamic masking, the
// generator at the masked positions, Gumbel sampling, the corrupted input, the discriminator and
// total = gen_weight * MLM + disc_weight * RTD. Everything stays on the batch's device; nothing
// is read back to the host here.
#pragma once

#include "app/model/electra_model.h"
#include "app/train/masking.h"

namespace electra::train {

struct Batch {
  at::Tensor input_ids;    // [B, L]
  at::Tensor input_mask;   // [B, L]
  at::Tensor segment_ids;  // [B, L]
  // What the losses' sums are divided by; 0: this batch's own counts of masked positions and of
  // real tokens (the mean). Data parallelism passes global counts / ranks (see Trainer).
  double mlm_denominator = 0, disc_denominator = 0;
};

struct StepOptions {
  MaskingOptions masking;
  double temperature = 1.0;
  double generator_weight = 1.0;
  double discriminator_weight = 50.0;
  // The generator's loss: MLM (joint), or REINFORCE with this baseline and entropy weight
  // (adversarial; app/train/adversarial.h).
  bool adversarial = false;
  double reward_baseline = 0.0, entropy_weight = 0.0;
};

struct StepOutput {
  at::Tensor total, mlm_loss, disc_loss;  // scalars (total carries the graph)
  // adversarial only: the REINFORCE loss, the mean reward and entropy at the masked positions
  at::Tensor reinforce_loss, mean_reward, entropy;
  MaskedBatch masked;
  at::Tensor generator_logits;   // [B, P, V] fp32
  at::Tensor corrupted_samples;  // [B, P] the generator's samples at the masked positions
  CorruptedBatch corrupted;
  at::Tensor disc_logits;  // [B, L]
};

StepOutput electra_forward(model::ElectraModelImpl& model, const Batch& batch,
                           const StepOptions& options, const RowRandom& random = RowRandom());

}  // namespace electra::train
