// Where the step's random numbers come from: a counter-based hash, SplitMix64's output for a
// counter. Number j of draw d for the row whose key is k is
//   splitmix64_mix(k + (d * 2^32 + j + 1) * 0x9E3779B97F4A7C15)
// (the (d * 2^32 + j + 1)-th output of SplitMix64 seeded with k), in 64-bit integer arithmetic
// that CPU and CUDA do alike. So a row's masks and samples depend only on its key — not on the
// rows it shares a batch with, the number of ranks or micro-batches, or the device — and the
// numbers of a whole batch take a fixed number of operator calls with no generator state (no
// per-row launches; capturable in a CUDA graph). The trainer keys a row by (seed, step, its slot
// in the step's global batch). Or, for tests and benchmarks, from one generator (the default one
// when none is given).
#pragma once

#include <ATen/Tensor.h>
#include <ATen/core/Generator.h>
#include <c10/util/Optional.h>

#include <cstdint>
#include <vector>

#include "data/seed_hash.h"

namespace electra::train {

// What a draw is for: one key gives independent numbers for each purpose.
enum class Draw : uint64_t { kMaskPositions = 1, kKeepOriginal = 2, kSample = 3 };

// The hash on the host (data/seed_hash.h): the reference the tensor version is tested against.
using data::counter_hash;
inline uint64_t draw_counter(Draw draw, uint64_t index) {
  return (uint64_t(draw) << 32) + index + 1;
}

// The random numbers of one masking step: all drawn at once.
struct StepDraws {
  at::Tensor position_scores;  // [B, L] int64: candidates with the P highest scores are masked
  // [B, P] float in (0, 1): the top 23 bits k of the hash as (k + 1/2) / 2^23
  at::Tensor keep_uniforms;    // below keep_original_prob: the token is kept, not masked
  at::Tensor sample_uniforms;  // the generator's sample, by inverse CDF
};

class RowRandom {
 public:
  explicit RowRandom(c10::optional<at::Generator> generator = c10::nullopt)
      : generator_(std::move(generator)) {}
  explicit RowRandom(at::Tensor row_keys) : row_keys_(std::move(row_keys)) {}  // [B] int64
  RowRandom(const std::vector<uint64_t>& row_keys, at::Device device = at::kCPU);

  bool keyed() const { return row_keys_.defined(); }
  // The draws for B rows of `length` tokens and `predictions` masked slots, on `device`.
  StepDraws step_draws(int64_t rows, int64_t length, int64_t predictions, at::Device device) const;
  // [B, C] int64: counter_hash(key of row b, counters[c]) for counters [C] int64 on the keys'
  // device (keyed only).
  at::Tensor hash(const at::Tensor& counters) const;

 private:
  c10::optional<at::Generator> generator_;
  at::Tensor row_keys_;  // [B] int64; undefined: draw from generator_
};

}  // namespace electra::train
