#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <set>

#include "app/train/masking.h"

namespace electra::train {
namespace {

constexpr int64_t kCls = 101, kSep = 102, kMask = 103, kLength = 128;

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
  const auto logits = at::zeros({2, 3, 50});
  EXPECT_TRUE(sample_tokens(logits, 1.0, RowRandom({5, 6}))[1].equal(
      sample_tokens(logits.slice(0, 1, 2), 1.0, RowRandom({6}))[0]));
}

TEST(Sampling, GumbelMaxDrawsFromTheSoftmax) {
  // logits [0, log 3]: P(token 1) = 3/4; at temperature 2, P = sqrt(3) / (1 + sqrt(3)).
  const auto logits = at::tensor({0.0f, std::log(3.0f)}).expand({1, 40000, 2}).contiguous();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(5);
  EXPECT_NEAR(sample_tokens(logits, 1.0, RowRandom(generator)).to(at::kFloat).mean().item<double>(),
              0.75, 0.01);
  EXPECT_NEAR(sample_tokens(logits, 2.0, RowRandom(generator)).to(at::kFloat).mean().item<double>(),
              std::sqrt(3.0) / (1 + std::sqrt(3.0)), 0.01);
  const auto sure = at::tensor({-50.0f, 50.0f, -50.0f}).expand({2, 3, 3}).contiguous();
  EXPECT_TRUE(sample_tokens(sure).eq(1).all().item<bool>());
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
