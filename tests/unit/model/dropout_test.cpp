#include "app/model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "app/model/encoder.h"

namespace electra::model {
namespace {

// The seed dropout draws first after torch::manual_seed(seed).
uint64_t first_seed_after(uint64_t seed) {
  torch::manual_seed(seed);
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

TEST(Dropout, KeepsOneMinusPScaledAndZeroesTheRest) {
  const torch::Tensor x = torch::rand({1000, 1000}) + 0.5;  // no zeros
  torch::manual_seed(3);
  const torch::Tensor y = model::dropout(x, 0.1, true);
  const torch::Tensor kept = y != 0;
  EXPECT_NEAR(kept.to(torch::kDouble).mean().item<double>(), 0.9, 0.002);
  EXPECT_TRUE(torch::allclose(y.masked_select(kept), x.masked_select(kept) / 0.9, 1e-6, 0));
  // Rows and columns alike: no stripes in the mask.
  const torch::Tensor per_row = kept.to(torch::kDouble).mean(1),
                      per_column = kept.to(torch::kDouble).mean(0);
  EXPECT_LT((per_row - 0.9).abs().max().item<double>(), 0.05);
  EXPECT_LT((per_column - 0.9).abs().max().item<double>(), 0.05);
}

TEST(Dropout, TheKernelIsTheHashOnEveryElement) {
  const int64_t n = 100003;  // not a multiple of any vector width
  const torch::Tensor x = torch::ones({n});
  const uint64_t seed = 0x0123456789ABCDEFULL;
  const torch::Tensor y = apply_dropout_mask(x, 0.25, seed);
  const uint32_t threshold = uint32_t(std::ldexp(0.25, 32));
  const float* values = y.const_data_ptr<float>();
  int64_t differ = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float expected = dropout_hash(seed, uint64_t(i)) >= threshold ? 1.0f / 0.75f : 0.0f;
    differ += values[i] != expected;
  }
  EXPECT_EQ(differ, 0);
}

TEST(Dropout, SeedsGiveIndependentMasksAndTheSameSeedTheSameMask) {
  const torch::Tensor x = torch::ones({200000});
  torch::manual_seed(11);
  const torch::Tensor a = model::dropout(x, 0.5, true) != 0, b = model::dropout(x, 0.5, true) != 0;
  torch::manual_seed(11);
  EXPECT_TRUE(torch::equal(model::dropout(x, 0.5, true) != 0, a));
  // Two draws in a row: as two independent fair coins, they agree half the time.
  EXPECT_NEAR((a == b).to(torch::kDouble).mean().item<double>(), 0.5, 0.01);
  // Neighbouring seeds too.
  const torch::Tensor c = apply_dropout_mask(x, 0.5, 1) != 0,
                      d = apply_dropout_mask(x, 0.5, 2) != 0;
  EXPECT_NEAR((c == d).to(torch::kDouble).mean().item<double>(), 0.5, 0.01);
}

TEST(Dropout, BackwardUsesTheForwardMask) {
  const torch::Tensor x = (torch::rand({64, 33}) + 0.5).requires_grad_(true);
  torch::manual_seed(5);
  const torch::Tensor y = model::dropout(x, 0.3, true);
  const torch::Tensor upstream = torch::rand({64, 33});
  y.backward(upstream);
  // d(y)/d(x) is the mask times 1 / (1 - p): the same elements as forward kept.
  const torch::Tensor mask = y.detach() / x.detach();
  EXPECT_TRUE(torch::allclose(x.grad(), upstream * mask, 1e-6, 1e-7));
  EXPECT_TRUE(torch::equal(x.grad() != 0, y.detach() != 0));
}

TEST(Dropout, NotTrainingOrNoProbabilityIsTheInputAndOneIsZeros) {
  const torch::Tensor x = torch::rand({4, 5});
  EXPECT_TRUE(model::dropout(x, 0.1, false).is_same(x));
  EXPECT_TRUE(model::dropout(x, 0.0, true).is_same(x));
  EXPECT_EQ(model::dropout(x, 1.0, true).count_nonzero().item<int64_t>(), 0);
}

TEST(Dropout, AnyLayoutAndDtypeFollowsTheRowMajorOrder) {
  const torch::Tensor x = torch::rand({40, 30}).t();  // not contiguous
  EXPECT_TRUE(
      torch::equal(apply_dropout_mask(x, 0.2, 9), apply_dropout_mask(x.contiguous(), 0.2, 9)));
  const torch::Tensor wide = x.to(torch::kDouble);
  const torch::Tensor as_float = apply_dropout_mask(x, 0.2, 9).to(torch::kDouble);
  const torch::Tensor as_double = apply_dropout_mask(wide, 0.2, 9);
  EXPECT_EQ(as_double.scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::allclose(as_double, as_float, 1e-6, 1e-7));
}

TEST(Dropout, CpuAttentionWithDropoutIsSoftmaxThenMaskThenValues) {
  const torch::Tensor q = torch::randn({2, 3, 7, 4}), k = torch::randn({2, 3, 7, 4}),
                      v = torch::randn({2, 3, 7, 4});
  const torch::Tensor bias = attention_bias_from_mask(
      torch::tensor({1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1}).view({2, 7}), torch::kFloat);
  const uint64_t seed = first_seed_after(21);
  const torch::Tensor probs =
      torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / 2.0 + bias, -1);
  const torch::Tensor expected = torch::matmul(apply_dropout_mask(probs, 0.1, seed), v);
  torch::manual_seed(21);
  EXPECT_TRUE(torch::allclose(attend(q, k, v, bias, 0.1), expected, 1e-5, 1e-6));
  // Without dropout: LibTorch's attention, the same probabilities.
  EXPECT_TRUE(torch::allclose(attend(q, k, v, bias, 0.0), torch::matmul(probs, v), 1e-5, 1e-6));
}

}  // namespace
}  // namespace electra::model
