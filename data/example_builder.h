// Pre-training examples from tokenized lines, exactly as ELECTRA's build_pretraining_dataset.py
// ExampleBuilder (DESIGN.md section 3): lines accumulate until the target length is reached or the
// document ends; 10% of examples are one segment, the rest split into A and B; 5% of the time the
// next target length is randint(5, L).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "data/shard_format.h"
#include "data/vocabulary.h"

namespace electra::data {

// The reference's random.random() and random.randint(), from a 64-bit Mersenne Twister so that
// results do not depend on the standard library's distributions.
class ExampleRng {
 public:
  explicit ExampleRng(uint64_t seed) : engine_(seed) {}
  double uniform() { return double(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  long long randint(long long low, long long high) {                // [low, high]
    return low + (long long)(engine_() % uint64_t(high - low + 1));
  }

 private:
  std::mt19937_64 engine_;
};

class ExampleBuilder {
 public:
  ExampleBuilder(const SpecialTokenIds& special, long long max_length, uint64_t seed);

  // Adds one line's token ids; an empty `blank` line ends the document. Returns the finished
  // example when this line completed one.
  std::optional<Example> add_line(std::vector<int32_t> ids, bool blank);
  // Ends the input (the reference adds a blank line at the end of each file).
  std::optional<Example> finish() { return add_line({}, true); }

 private:
  Example create_example();

  SpecialTokenIds special_;
  long long max_length_, target_length_;
  std::vector<std::vector<int32_t>> sentences_;
  long long current_length_ = 0;
  ExampleRng rng_;
};

}  // namespace electra::data
