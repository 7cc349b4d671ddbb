// Where the step's random numbers come from. Keyed by rows: row i of every draw comes from its
// own generator seeded by (key[i], purpose), so a row's mask and samples depend only on its key —
// not on the batch it shares or on how many ranks split the global batch (2 ranks x b and 1 rank
// x 2b draw the same numbers), and resuming needs no generator state. Or, for tests and
// benchmarks, from one generator (the default one when none is given).
#pragma once

#include <ATen/Tensor.h>
#include <ATen/core/Generator.h>
#include <c10/util/Optional.h>

#include <cstdint>
#include <vector>

namespace electra::train {

// What a draw is for: one key gives independent numbers for each purpose.
enum class Draw : uint64_t { kMaskPositions = 1, kKeepOriginal = 2, kGumbel = 3 };

class RowRandom {
 public:
  explicit RowRandom(c10::optional<at::Generator> generator = c10::nullopt)
      : generator_(std::move(generator)) {}
  explicit RowRandom(std::vector<uint64_t> row_keys) : row_keys_(std::move(row_keys)) {}

  // Uniform numbers in [0, 1) of `shape` = [B, ...] (B = the number of row keys when keyed).
  at::Tensor uniform(Draw purpose, at::IntArrayRef shape, const at::TensorOptions& options) const;

 private:
  c10::optional<at::Generator> generator_;
  std::vector<uint64_t> row_keys_;  // [B]; empty: draw from generator_
};

}  // namespace electra::train
