// Every seed and random key of the system comes from one hash: SplitMix64's output function, which
// turns any 64-bit value into a well-mixed one. Two uses:
//   mix_seed(a, b, c): seeds and keys from several numbers (a run's seed, an epoch, a step, a
//     row's slot): loader orders, dropout seeds, row keys, the corpus's train/validation split;
//   counter_hash(key, counter): number `counter` of the stream keyed by `key` — SplitMix64 seeded
//     with the key — the row-keyed random numbers of masking and sampling (app/train/row_random.h
//     computes the same on tensors, from the constants here).
#pragma once

#include <cstdint>

namespace electra::data {

inline constexpr uint64_t kSplitMixGolden = 0x9E3779B97F4A7C15ull;  // SplitMix64's increment
inline constexpr uint64_t kSplitMixMul1 = 0xBF58476D1CE4E5B9ull;
inline constexpr uint64_t kSplitMixMul2 = 0x94D049BB133111EBull;

// SplitMix64's output function.
constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * kSplitMixMul1;
  z = (z ^ (z >> 27)) * kSplitMixMul2;
  return z ^ (z >> 31);
}

// The `counter`-th output of SplitMix64 seeded with `key` (counters from 1).
constexpr uint64_t counter_hash(uint64_t key, uint64_t counter) {
  return splitmix64_mix(key + counter * kSplitMixGolden);
}

// A well-mixed 64-bit hash of (a, b, c).
constexpr uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0) {
  return counter_hash(counter_hash(counter_hash(a, 1) ^ b, 1) ^ c, 1);
}

}  // namespace electra::data
