#include "app/train/electra_step.h"

#include <ATen/core/grad_mode.h>

#include <optional>

#include "app/train/adversarial.h"
#include "app/train/losses.h"
#include "app/train/step_phases.h"

namespace electra::train {

StepOutput electra_forward(model::ElectraModelImpl& model, const Batch& batch,
                           const StepOptions& options, const RowRandom& random) {
  StepOutput out;
  {
    StepPhaseScope phase(StepPhase::kMaskingSampling);
    out.masked = mask_batch(batch.input_ids, batch.input_mask, options.masking, random);
  }
  {
    // A frozen generator (kDiscriminatorOnly) only samples: no graph through it.
    const bool frozen = options.objective == Objective::kDiscriminatorOnly;
    std::optional<at::NoGradGuard> no_grad;
    if (frozen) no_grad.emplace();
    const auto hidden =
        model.generator->encode(out.masked.generator_input, batch.segment_ids, batch.input_mask)
            .last_hidden;
    out.generator_logits = model.generator->logits_at(hidden, out.masked.positions);
    out.mlm_loss = mlm_loss(out.generator_logits, out.masked.targets, out.masked.weights,
                            batch.mlm_denominator);
  }
  if (options.objective == Objective::kGeneratorOnly) {
    out.total = out.mlm_loss;
    return out;
  }
  // Samples carry no gradient: the only path from the discriminator's loss into the generator is
  // the shared embeddings.
  {
    StepPhaseScope phase(StepPhase::kMaskingSampling);
    out.corrupted_samples = sample_tokens(out.generator_logits, options.temperature, random);
    out.corrupted = corrupt(batch.input_ids, out.masked, out.corrupted_samples);
  }
  out.disc_logits =
      model.discriminator->forward(out.corrupted.input_ids, batch.segment_ids, batch.input_mask);
  out.disc_loss = discriminator_loss(out.disc_logits, out.corrupted.replaced, batch.input_mask,
                                     batch.disc_denominator);
  if (options.objective == Objective::kDiscriminatorOnly) {
    out.total = out.disc_loss;
    return out;
  }
  at::Tensor generator_loss = out.mlm_loss;
  if (options.objective == Objective::kAdversarial) {
    // The generator is rewarded where the discriminator was wrong about its samples.
    const ReinforceTerms terms = reinforce_loss(
        out.generator_logits / options.temperature, out.corrupted_samples, out.masked.weights,
        adversarial_rewards(out.disc_logits, out.corrupted.replaced, out.masked.positions),
        options.reward_baseline, options.entropy_weight, batch.mlm_denominator);
    out.reinforce_loss = terms.loss, out.mean_reward = terms.mean_reward;
    out.entropy = terms.entropy;
    generator_loss = terms.loss;
  }
  out.total =
      options.generator_weight * generator_loss + options.discriminator_weight * out.disc_loss;
  return out;
}

}  // namespace electra::train
