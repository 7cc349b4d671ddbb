#include "app/train/electra_step.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include <optional>

#include "app/model/autocast.h"
#include "app/train/adversarial.h"
#include "app/train/losses.h"
#include "app/train/step_phases.h"

namespace electra::train {

namespace {

// The denominator `which` (0 MLM, 1 RTD): the device scalar when the batch has it.
at::Tensor denominator_of(const Batch& batch, int which) {
  if (batch.denominators.defined()) return batch.denominators.select(0, which);
  const double value = which == 0 ? batch.mlm_denominator : batch.disc_denominator;
  return value > 0 ? at::scalar_tensor(value, batch.input_ids.options().dtype(at::kFloat))
                   : at::Tensor();
}

}  // namespace

StepOutput electra_forward(model::ElectraModelImpl& model, const Batch& batch,
                           const StepOptions& options, const RowRandom& given_random) {
  const RowRandom random =
      !given_random.keyed() && batch.row_keys.defined() ? RowRandom(batch.row_keys) : given_random;
  const at::Tensor attention_mask = batch.has_padding ? batch.input_mask : at::Tensor();
  const at::Tensor mlm_denominator = denominator_of(batch, 0);
  StepOutput out;
  {
    StepPhaseScope phase(StepPhase::kMaskingSampling);
    out.masked = mask_batch(batch.input_ids, batch.input_mask, options.masking, random,
                            batch.prediction_counts, batch.mask_positions, batch.keep_original);
  }
  {
    // A frozen generator (kDiscriminatorOnly) only samples: no graph through it.
    const bool frozen = options.objective == Objective::kDiscriminatorOnly;
    std::optional<at::NoGradGuard> no_grad;
    if (frozen) no_grad.emplace();
    const auto hidden =
        model.generator->encode(out.masked.generator_input, batch.segment_ids, attention_mask)
            .last_hidden;
    out.generator_logits = model.generator->logits_at(hidden, out.masked.positions);
    model::Fp32Region fp32;
    out.mlm_loss =
        mlm_loss(out.generator_logits, out.masked.targets, out.masked.weights, mlm_denominator);
  }
  if (options.objective == Objective::kGeneratorOnly) {
    out.total = out.mlm_loss;
    return out;
  }
  // Samples carry no gradient: the only path from the discriminator's loss into the generator is
  // the shared embeddings.
  {
    StepPhaseScope phase(StepPhase::kMaskingSampling);
    model::Fp32Region fp32;
    out.corrupted_samples =
        sample_tokens(out.generator_logits, options.temperature, out.masked.sample_uniforms);
    out.corrupted = corrupt(batch.input_ids, out.masked, out.corrupted_samples);
  }
  out.disc_logits =
      model.discriminator->forward(out.corrupted.input_ids, batch.segment_ids, attention_mask);
  model::Fp32Region fp32;
  out.disc_loss = discriminator_loss(out.disc_logits, out.corrupted.replaced, batch.input_mask,
                                     denominator_of(batch, 1));
  if (options.objective == Objective::kDiscriminatorOnly) {
    out.total = out.disc_loss;
    return out;
  }
  at::Tensor generator_loss = out.mlm_loss;
  if (options.objective == Objective::kAdversarial) {
    // The generator is rewarded where the discriminator was wrong about its samples.
    const at::Tensor baseline =
        options.reward_baseline_tensor.defined()
            ? options.reward_baseline_tensor
            : at::scalar_tensor(options.reward_baseline,
                                out.generator_logits.options().dtype(at::kFloat));
    const ReinforceTerms terms = reinforce_loss(
        out.generator_logits / options.temperature, out.corrupted_samples, out.masked.weights,
        adversarial_rewards(out.disc_logits, out.corrupted.replaced, out.masked.positions),
        baseline, options.entropy_weight, mlm_denominator);
    out.reinforce_loss = terms.loss, out.mean_reward = terms.mean_reward;
    out.entropy = terms.entropy;
    generator_loss = terms.loss;
  }
  out.total =
      options.generator_weight * generator_loss + options.discriminator_weight * out.disc_loss;
  return out;
}

}  // namespace electra::train
