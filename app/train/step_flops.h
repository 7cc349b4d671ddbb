// The matmul FLOPs of one ELECTRA training step (a trained network's forward + backward = 3 x its
// forward), to report model FLOP/s: both encoders (projections, attention scores and values,
// FFN), the embedding projections, the discriminator head, and the generator head and vocabulary
// projection at the masked positions only (as the step computes them). Two-stage steps run one
// network (the generator alone) or train one (the discriminator, on a frozen generator's forward).
#pragma once

#include <cstdint>

#include "app/model/model_config.h"
#include "app/train/electra_step.h"

namespace electra::train {

double step_flops(const model::ModelConfig& config, int64_t batch, int64_t length,
                  int64_t predictions, Objective objective = Objective::kJoint);

}  // namespace electra::train
