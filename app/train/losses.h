// The two ELECTRA losses (DESIGN.md section 3, steps 4 and 8), in fp32.
#pragma once

#include <ATen/Tensor.h>

namespace electra::train {

// Mean cross-entropy of the generator over the real masked positions: logits [B, P, V],
// targets [B, P] (original token ids), weights [B, P] (1 = a masked position, 0 = padding slot).
// A `denominator` (a scalar tensor) replaces the count (data parallelism divides every rank's sum
// by the global count, so that the ranks' averaged gradient is the gradient of the global mean).
at::Tensor mlm_loss(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& weights,
                    const at::Tensor& denominator = {});

// Sigmoid cross-entropy of the discriminator summed over every position with input_mask = 1 and
// divided by their count: logits [B, L], replaced [B, L] (1 = replaced), input_mask [B, L].
at::Tensor discriminator_loss(const at::Tensor& logits, const at::Tensor& replaced,
                              const at::Tensor& input_mask, const at::Tensor& denominator = {});

}  // namespace electra::train
