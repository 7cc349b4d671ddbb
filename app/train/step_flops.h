// The matmul FLOPs of one joint ELECTRA training step (forward + backward = 3 x forward), to
// report model FLOP/s: both encoders (projections, attention scores and values, FFN), the
// embedding projections, the discriminator head, and the generator head and vocabulary
// projection at the masked positions only (as the step computes them).
#pragma once

#include <cstdint>

#include "app/model/model_config.h"

namespace electra::train {

double joint_step_flops(const model::ModelConfig& config, int64_t batch, int64_t length,
                        int64_t predictions);

}  // namespace electra::train
