#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "app/train/masking.h"

namespace electra::train {
namespace {

constexpr int64_t kCls = 101, kSep = 102, kMask = 103, kLength = 128;
// The first masked positions of a 40-token row keyed 12345 (the AStepsDraws test pins them).
const std::vector<int64_t> kPinnedPositions = {20, 32, 18, 33, 35, 23};

// A row of `real` tokens [CLS] w... [SEP] padded with zeros to kLength.
std::pair<at::Tensor, at::Tensor> row(int64_t real, int64_t first_word = 1000) {
  at::Tensor ids = at::zeros({kLength}, at::kLong), mask = at::zeros({kLength}, at::kLong);
  for (int64_t i = 0; i < real; ++i) {
    ids[i] = i == 0 ? kCls : i == real - 1 ? kSep : first_word + i;
    mask[i] = 1;
  }
  return {ids, mask};
}

std::pair<at::Tensor, at::Tensor> batch(const std::vector<int64_t>& lengths) {
  std::vector<at::Tensor> ids, masks;
  for (int64_t length : lengths) {
    auto [i, m] = row(length);
    ids.push_back(i), masks.push_back(m);
  }
  return {at::stack(ids), at::stack(masks)};
}

MaskingOptions options() {
  MaskingOptions o;
  o.max_predictions = max_predictions_per_seq(0.15, kLength);
  return o;
}

TEST(Masking, MaxPredictionsAsTheReference) {
  EXPECT_EQ(max_predictions_per_seq(0.15, 128), 19);
  EXPECT_EQ(max_predictions_per_seq(0.15, 512), 79);
  EXPECT_EQ(max_predictions_per_seq(0.25, 512), 130);
}

TEST(Masking, CountsFollowTheFormulaWithStaticShapes) {
  auto [ids, mask] = batch({128, 40, 23, 3, 2});
  const auto masked = mask_batch(ids, mask, options());
  EXPECT_EQ(masked.positions.sizes(), (std::vector<int64_t>{5, 19}));
  EXPECT_EQ(masked.weights.sizes(), (std::vector<int64_t>{5, 19}));
  const auto counts = masked.weights.sum(1);
  // max(1, min(P, round(len * 0.15))), never more than the candidates (len - 2).
  EXPECT_EQ(counts[0].item<float>(), 19);  // round(19.2)
  EXPECT_EQ(counts[1].item<float>(), 6);   // round(6.0)
  EXPECT_EQ(counts[2].item<float>(), 3);   // round(3.45)
  EXPECT_EQ(counts[3].item<float>(), 1);   // max(1, round(0.45))
  EXPECT_EQ(counts[4].item<float>(), 0);   // [CLS] [SEP]: no candidate
}

TEST(Masking, NeverHitsClsSepPaddingOrMaskAndHasNoDuplicates) {
  auto [ids, mask] = batch({128, 60, 17, 5, 128, 90});
  ids[4][10] = kMask;  // a [MASK] in the text is not a candidate
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  for (int round = 0; round < 50; ++round) {
    const auto masked = mask_batch(ids, mask, options(), RowRandom(generator));
    for (int64_t b = 0; b < ids.size(0); ++b) {
      std::set<int64_t> seen;
      for (int64_t j = 0; j < masked.positions.size(1); ++j) {
        const int64_t position = masked.positions[b][j].item<int64_t>();
        if (masked.weights[b][j].item<float>() == 0) {
          EXPECT_EQ(position, 0);  // padding slot
          continue;
        }
        const int64_t token = ids[b][position].item<int64_t>();
        EXPECT_EQ(mask[b][position].item<int64_t>(), 1) << "padding chosen";
        EXPECT_NE(token, kCls);
        EXPECT_NE(token, kSep);
        EXPECT_NE(token, kMask);
        EXPECT_TRUE(seen.insert(position).second) << "duplicate position";
        EXPECT_EQ(masked.targets[b][j].item<int64_t>(), token);
      }
    }
  }
}

TEST(Masking, EightyFivePercentBecomeMaskAndTheRestIsUntouched) {
  auto [ids, mask] = batch(std::vector<int64_t>(64, 128));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  double chosen = 0, masked_count = 0;
  for (int round = 0; round < 20; ++round) {
    const auto masked = mask_batch(ids, mask, options(), RowRandom(generator));
    const auto changed = masked.generator_input.ne(ids);
    // Only chosen positions change, and only to [MASK].
    EXPECT_TRUE(masked.generator_input.masked_select(changed).eq(kMask).all().item<bool>());
    const auto at_positions = masked.generator_input.gather(1, masked.positions);
    chosen += masked.weights.sum().item<double>();
    masked_count += (at_positions.eq(kMask).to(at::kFloat) * masked.weights).sum().item<double>();
    EXPECT_EQ(changed.sum().item<int64_t>(),
              (at_positions.eq(kMask).to(at::kFloat) * masked.weights).sum().item<int64_t>());
  }
  EXPECT_NEAR(masked_count / chosen, 0.85, 0.02);
}

TEST(Masking, IsDeterministicForASeed) {
  auto [ids, mask] = batch({128, 70});
  auto a =
      mask_batch(ids, mask, options(), RowRandom(at::make_generator<at::CPUGeneratorImpl>(11)));
  auto b =
      mask_batch(ids, mask, options(), RowRandom(at::make_generator<at::CPUGeneratorImpl>(11)));
  auto c =
      mask_batch(ids, mask, options(), RowRandom(at::make_generator<at::CPUGeneratorImpl>(12)));
  EXPECT_TRUE(a.positions.equal(b.positions) && a.generator_input.equal(b.generator_input));
  EXPECT_FALSE(a.positions.equal(c.positions));
}

TEST(Masking, ARowKeyedDrawDependsOnlyOnTheRowsKey) {
  // Rows 0 and 1 masked together (keys 5, 6) and apart: the same positions and inputs, so the
  // split of a global batch across ranks does not change what each row sees.
  auto [ids, mask] = batch({120, 90});
  const auto together = mask_batch(ids, mask, options(), RowRandom({5, 6}));
  const auto second =
      mask_batch(ids.slice(0, 1, 2), mask.slice(0, 1, 2), options(), RowRandom({6}));
  EXPECT_TRUE(together.positions[1].equal(second.positions[0]));
  EXPECT_TRUE(together.generator_input[1].equal(second.generator_input[0]));
  const auto other = mask_batch(ids.slice(0, 1, 2), mask.slice(0, 1, 2), options(), RowRandom({7}));
  EXPECT_FALSE(other.positions[0].equal(second.positions[0]));
  EXPECT_TRUE(together.sample_uniforms[1].equal(second.sample_uniforms[0]));
  const auto logits = at::zeros({2, 19, 50});
  EXPECT_TRUE(sample_tokens(logits, 1.0, together.sample_uniforms)[1].equal(
      sample_tokens(logits.slice(0, 1, 2), 1.0, second.sample_uniforms)[0]));
}

TEST(Random, TheCounterHashIsSplitMix64) {
  // SplitMix64 seeded with 0: its first outputs (the published sequence).
  EXPECT_EQ(counter_hash(0, 1), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(counter_hash(0, 2), 0x6E789E6AA1B965F4ull);
  // A few more, pinned (computed by a separate big-integer implementation).
  EXPECT_EQ(counter_hash(42, 1), 0xBDD732262FEB6E95ull);
  EXPECT_EQ(counter_hash(42, 2), 0x28EFE333B266F103ull);
  EXPECT_EQ(counter_hash(12345, (3ull << 32) + 7), 0x29FA12FC3EAAAA36ull);
  EXPECT_EQ(counter_hash((1ull << 63) + 5, (1ull << 32) + 1), 0x493C96CE06333ACAull);
  // The tensor version computes the same bits, for keys with the top bit set too.
  const std::vector<uint64_t> keys = {0, 42, 12345, (1ull << 63) + 5, ~0ull};
  const std::vector<int64_t> counters = {1, 2, int64_t((3ull << 32) + 7),
                                         int64_t((1ull << 32) + 1)};
  const at::Tensor hashed = RowRandom(keys).hash(at::tensor(counters, at::kLong));
  for (size_t k = 0; k < keys.size(); ++k) {
    for (size_t c = 0; c < counters.size(); ++c) {
      EXPECT_EQ(uint64_t(hashed[int64_t(k)][int64_t(c)].item<int64_t>()),
                counter_hash(keys[k], uint64_t(counters[c])))
          << "key " << keys[k] << " counter " << counters[c];
    }
  }
}

TEST(Random, AStepsDrawsAreAFunctionOfKeyDrawAndIndex) {
  const std::vector<uint64_t> keys = {7, 1ull << 62, 123456789};
  const StepDraws draws = RowRandom(keys).step_draws(3, 16, 4, at::kCPU);
  for (size_t b = 0; b < keys.size(); ++b) {
    const int64_t row = int64_t(b);
    for (int64_t j = 0; j < 16; ++j) {
      EXPECT_EQ(uint64_t(draws.position_scores[row][j].item<int64_t>()),
                counter_hash(keys[b], draw_counter(Draw::kMaskPositions, uint64_t(j))));
    }
    for (int64_t j = 0; j < 4; ++j) {
      const auto uniform = [&](Draw draw) {
        return (double(counter_hash(keys[b], draw_counter(draw, uint64_t(j))) >> 41) + 0.5) /
               (1 << 23);
      };
      EXPECT_EQ(draws.keep_uniforms[row][j].item<double>(), uniform(Draw::kKeepOriginal));
      EXPECT_EQ(draws.sample_uniforms[row][j].item<double>(), uniform(Draw::kSample));
    }
  }
  // Pinned: the masks of one row (a change of the hash or of the masking shows here).
  auto [ids, mask] = batch({40});
  const auto masked = mask_batch(ids, mask, options(), RowRandom({12345}));
  std::vector<int64_t> positions;
  for (int64_t j = 0; j < 6; ++j) positions.push_back(masked.positions[0][j].item<int64_t>());
  EXPECT_EQ(positions, kPinnedPositions) << ::testing::PrintToString(positions);
}

TEST(Masking, TheHostCountsAsTheDevice) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(9);
  for (int round = 0; round < 200; ++round) {
    const int64_t length = 1 + at::randint(kLength, {1}, generator).item<int64_t>();
    auto [ids, mask] = row(length, 1000);
    // some specials inside the text, and a mask probability that rounds halves
    ids[at::randint(length, {1}, generator).item<int64_t>()] = kMask;
    MaskingOptions o = options();
    o.mask_prob = round % 2 ? 0.15 : 0.25;
    const at::Tensor ids32 = ids.to(at::kInt).contiguous();
    const at::Tensor mask8 = mask.to(at::kByte).contiguous();
    EXPECT_EQ(prediction_count(ids32.data_ptr<int32_t>(), mask8.data_ptr<uint8_t>(), kLength, o),
              prediction_counts(ids.unsqueeze(0), mask.unsqueeze(0), o)[0].item<int64_t>())
        << "length " << length;
  }
}

// Pearson's chi-square of `counts` against `probabilities` times their total.
double chi_square(const std::vector<double>& counts, const std::vector<double>& probabilities) {
  double total = 0, statistic = 0;
  for (double c : counts) total += c;
  for (size_t v = 0; v < counts.size(); ++v) {
    const double expected = total * probabilities[v];
    statistic += (counts[v] - expected) * (counts[v] - expected) / expected;
  }
  return statistic;
}

TEST(Sampling, InverseCdfDrawsFromTheSoftmax) {
  // Fixed logits over 8 tokens; 40,000 row-keyed draws (2,000 rows x 20 slots) at temperatures 1
  // and 2: Pearson's chi-square against softmax(logits / T) stays under the 0.1% critical value
  // of 7 degrees of freedom (24.32).
  const std::vector<float> values = {0.0f, 1.0f, -1.0f, 2.0f, 0.5f, -2.0f, 1.5f, -0.5f};
  const int64_t rows = 2000, slots = 20, vocab = int64_t(values.size());
  const at::Tensor logits = at::tensor(values).expand({rows, slots, vocab}).contiguous();
  std::vector<uint64_t> keys(rows);
  for (int64_t i = 0; i < rows; ++i) keys[size_t(i)] = counter_hash(2024, uint64_t(i));
  const at::Tensor uniforms = RowRandom(keys).step_draws(rows, 1, slots, at::kCPU).sample_uniforms;
  for (const double temperature : {1.0, 2.0}) {
    const at::Tensor sampled = sample_tokens(logits, temperature, uniforms).flatten();
    std::vector<double> counts(size_t(vocab), 0), probabilities(size_t(vocab), 0);
    const at::Tensor histogram = at::bincount(sampled, {}, vocab);
    double norm = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      counts[size_t(v)] = histogram[v].item<double>();
      norm += std::exp(values[size_t(v)] / temperature);
    }
    for (int64_t v = 0; v < vocab; ++v) {
      probabilities[size_t(v)] = std::exp(values[size_t(v)] / temperature) / norm;
    }
    const double statistic = chi_square(counts, probabilities);
    std::printf("temperature %.0f: chi-square %.2f (7 degrees of freedom)\n", temperature,
                statistic);
    EXPECT_LT(statistic, 24.32) << "temperature " << temperature;
  }
  // A token of probability 0 (to rounding) is never drawn; a sure one always.
  const auto sure = at::tensor({-50.0f, 50.0f, -50.0f}).expand({2, 3, 3}).contiguous();
  EXPECT_TRUE(sample_tokens(sure, 1.0, at::rand({2, 3})).eq(1).all().item<bool>());
  EXPECT_TRUE(
      sample_tokens(sure, 1.0, at::full({2, 3}, 1.0f - 0.5f / (1 << 23))).eq(1).all().item<bool>());
  EXPECT_TRUE(
      sample_tokens(sure, 1.0, at::full({2, 3}, 0.5f / (1 << 23))).eq(1).all().item<bool>());
}

TEST(Corruption, SamplesGoToEveryChosenPositionAndEqualSamplesAreOriginal) {
  auto [ids, mask] = batch({20, 10});
  const auto masked =
      mask_batch(ids, mask, options(), RowRandom(at::make_generator<at::CPUGeneratorImpl>(1)));
  // Slot 0 samples its original token, every other chosen slot a new one (7).
  at::Tensor sampled = at::full_like(masked.targets, 7);
  sampled.select(1, 0).copy_(masked.targets.select(1, 0));
  const auto corrupted = corrupt(ids, masked, sampled);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t j = 0; j < masked.positions.size(1); ++j) {
      if (masked.weights[b][j].item<float>() == 0) continue;
      const int64_t position = masked.positions[b][j].item<int64_t>();
      EXPECT_EQ(corrupted.input_ids[b][position].item<int64_t>(), sampled[b][j].item<int64_t>());
      EXPECT_EQ(corrupted.replaced[b][position].item<float>(), j == 0 ? 0.0f : 1.0f);
    }
  }
  // Padding slots and unchosen positions contribute nothing: the count of changes is exact.
  const double changed = (masked.weights.sum(1) - 1).sum().item<double>();
  EXPECT_EQ(corrupted.replaced.sum().item<double>(), changed);
  EXPECT_TRUE(corrupted.replaced.masked_select(mask.eq(0)).eq(0).all().item<bool>());
  EXPECT_EQ(corrupted.input_ids.ne(ids).sum().item<double>(), changed);
}

}  // namespace
}  // namespace electra::train
