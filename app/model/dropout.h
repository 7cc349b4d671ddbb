// Dropout as BERT's (each element kept with probability 1 - p and scaled by 1 / (1 - p)), with a
// CPU kernel of its own. LibTorch's CPU dropout draws one Bernoulli number at a time from its
// generator on one thread, then scales and multiplies in two more passes, and keeps the mask for
// backward; here the mask is a counter-based hash of (a seed drawn from LibTorch's default CPU
// generator, the element's index), computed in vectorised, parallel chunks in the same pass as the
// product, and computed again in backward instead of being kept. On CUDA LibTorch's fused kernel
// is used as it is. Seeding (torch::manual_seed) makes a run repeat itself as before.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace electra::model {

// x itself when not training or p == 0; zeros when p >= 1.
at::Tensor dropout(const at::Tensor& x, double p, bool training);

// The CPU kernel's decision for element `index` under `seed` (the reference the tests check the
// kernel against): kept when the 32-bit hash is at or above p * 2^32.
uint32_t dropout_hash(uint64_t seed, uint64_t index);

// x [any shape] * (kept ? 1 / (1 - p) : 0) for every element, in x's row-major order, under
// `seed` (CPU; the differentiable op `dropout` is built on it).
at::Tensor apply_dropout_mask(const at::Tensor& x, double p, uint64_t seed);

}  // namespace electra::model
