// Data parallelism keeps every rank's parameters identical (DESIGN.md section 5); this checks it:
// a checksum of the parameters per rank, compared on rank 0. Run every --check-replicas-every
// steps (off by default: it reads every parameter and synchronises the device).
#pragma once

#include <torch/nn/module.h>

#include "dist/communicator.h"

namespace electra::train {

// Every rank calls this together; throws on every rank when some rank's parameters differ from
// rank 0's (the message names the ranks and the step).
void check_replicas_identical(const torch::nn::Module& module, dist::Communicator& communicator,
                              long long step);

}  // namespace electra::train
