// Two-stage training (ELECTRA paper, section 3.2; `--strategy two-stage`): of a run of 2N steps,
// the first N train the generator alone by MLM; then the discriminator is initialised from the
// generator's weights and trained alone by RTD for N steps on the samples of the frozen generator.
// Initialising one from the other needs a generator of the discriminator's size, and a frozen
// generator needs embeddings of its own (the joint pair shares them): two_stage_model().
#pragma once

#include <string>

#include "app/model/electra_model.h"

namespace electra::train {

enum class TwoStagePhase { kGenerator, kDiscriminator };

// "generator" / "discriminator", as metrics records name the stage.
std::string phase_name(TwoStagePhase phase);

// The phase of step `step` (1-based) of a run of `train_steps` (even): steps 1..N train the
// generator, N+1..2N the discriminator.
TwoStagePhase phase_of_step(long long step, long long train_steps);

// The model two-stage trains: the configured one with the generator's stack of the
// discriminator's sizes, and embeddings of its own (share_embeddings false).
model::ModelConfig two_stage_model(const model::ModelConfig& configured);

// The model a strategy trains, in place: two-stage's and mlm's generator becomes
// two_stage_model()'s; joint and adversarial train the configured pair. Returns the line that
// says so ("" when nothing changed), for the run's start.
std::string reshape_for_strategy(model::ModelConfig& model, const std::string& strategy,
                                 long long train_steps);

// The stage boundary: copies the generator's embeddings, projection and encoder into the
// discriminator (its RTD head keeps its own weights). Throws std::logic_error when the model is
// not two_stage_model()'s shape.
void initialise_discriminator_from_generator(model::ElectraModelImpl& model);

// Freezes the network the phase does not train (requires_grad false, so AdamW and gradient
// clipping leave it alone) and puts the model in training mode — except a frozen generator,
// which samples in eval mode (no dropout: a fixed sampler). Before every step of the phase
// (evaluation switches modes), and after a GradientReducer took the parameters in (it keeps a
// bucket slot for the frozen ones).
void enter_phase(model::ElectraModelImpl& model, TwoStagePhase phase);

// Each stage warms up and decays over its own N steps: scheduled_learning_rate of the step
// within its stage.
double two_stage_learning_rate(double lr, long long steps_done, long long warmup_steps,
                               long long train_steps);

}  // namespace electra::train
