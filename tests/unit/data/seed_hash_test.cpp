// The one hash behind every seed and key: pinned values (a corpus's split, the loader's orders,
// the rows' masks and a resumed run's data all depend on them staying the same), and
// counter_hash(k, n) as the n-th output of SplitMix64 seeded with k.
#include <gtest/gtest.h>

#include "data/seed_hash.h"

namespace electra::data {
namespace {

// SplitMix64 as a generator: the state advances by the golden increment, each output mixes it.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() { return splitmix64_mix(state += kSplitMixGolden); }
};

TEST(SeedHash, MixSeedKeepsItsValues) {
  static_assert(mix_seed(1, 2, 3) == 0xD0734750FDE362B3ull, "computable at compile time");
  EXPECT_EQ(mix_seed(0, 0, 0), 0x238275BC38FCBE91ull);
  EXPECT_EQ(mix_seed(42, 7), 0x55BE888977820BEFull);
  EXPECT_EQ(mix_seed((1ull << 63) + 5, 123456789, 0xB10C), 0x898B57E8ADB781B6ull);
}

TEST(SeedHash, CounterHashIsTheNthOutputOfSplitMix64SeededWithTheKey) {
  for (const uint64_t key : {0ull, 42ull, (1ull << 63) + 5}) {
    SplitMix64 generator{key};
    for (uint64_t n = 1; n <= 100; ++n) EXPECT_EQ(counter_hash(key, n), generator.next());
  }
  EXPECT_EQ(counter_hash(0, 1), 0xE220A8397B1DCDAFull);
}

}  // namespace
}  // namespace electra::data
