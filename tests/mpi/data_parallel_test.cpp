// Run under mpirun -np 2 and -np 4: the bucketed gradient reducer averages exactly what an
// unbucketed all-reduce averages, overlaps backward, reduces only on the final micro-batch, and
// data-parallel training keeps every rank's parameters identical.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "app/model/electra_model.h"
#include "app/train/checkpoint_files.h"
#include "app/train/electra_step.h"
#include "app/train/gradient_reducer.h"
#include "app/train/optimizer.h"
#include "dist/communicator.h"
#include "test_util.h"
#include "unit/train/reference_adamw.h"

namespace electra::train {
namespace {

dist::Communicator& world() {
  static std::unique_ptr<dist::Communicator> communicator = dist::make_world_communicator();
  return *communicator;
}

// The reference: every gradient concatenated into one buffer, one all-reduce, divided by ranks.
std::vector<at::Tensor> unbucketed_average(const std::vector<at::Tensor>& local) {
  std::vector<at::Tensor> flat;
  for (const auto& g : local) flat.push_back(g.reshape({-1}));
  at::Tensor buffer = at::cat(flat).contiguous();
  world().all_reduce_sum(buffer.data_ptr<float>(), size_t(buffer.numel()));
  buffer.div_(double(world().size()));
  std::vector<at::Tensor> averaged;
  int64_t offset = 0;
  for (const auto& g : local) {
    averaged.push_back(buffer.narrow(0, offset, g.numel()).view_as(g).clone());
    offset += g.numel();
  }
  return averaged;
}

std::vector<at::Tensor> gradients(torch::nn::Module& module) {
  std::vector<at::Tensor> grads;
  for (const auto& p : module.parameters()) grads.push_back(p.grad().clone());
  return grads;
}

// max |a - b| / max |b| over all gradients.
double relative_difference(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double difference = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference = std::max(difference, (a[i] - b[i]).abs().max().item<double>());
    scale = std::max(scale, b[i].abs().max().item<double>());
  }
  return difference / std::max(scale, 1e-30);
}

// A tiny generator/discriminator pair with this rank's own batches.
struct Pair {
  model::ElectraModel model{nullptr};
  StepOptions options;
  Pair() {
    torch::manual_seed(1234);  // the same initial model on every rank
    model = model::ElectraModel(model::ModelConfig::load("tiny"));
    options.masking.max_predictions = max_predictions_per_seq(0.15, 32);
  }
  // Forward and backward of batch `index` of this rank (the same every time it is asked for).
  void backward(int index) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(100 + 10 * world().rank() + index);
    auto ids = at::randint(1000, 2000, {4, 32}, generator, at::kLong);
    ids.select(1, 0).fill_(101);
    ids.select(1, 31).fill_(102);
    const Batch batch{ids, at::ones_like(ids), at::zeros_like(ids)};
    torch::manual_seed(7 + index);  // dropout
    electra_forward(*model, batch, options, RowRandom(generator)).total.backward();
  }
};

TEST(GradientReducer, AveragesAndGivesZerosToParametersWithoutGradient) {
  ASSERT_GE(world().size(), 2) << "run under mpirun";
  torch::nn::Module module;
  auto weight = module.register_parameter("weight", torch::zeros({3, 4}));
  auto unused = module.register_parameter("unused", torch::zeros({2}));
  GradientReducer reducer(module, world());
  reducer.zero_gradients();
  reducer.before_backward(true);
  (weight * float(world().rank() + 1)).sum().backward();  // gradient rank + 1 everywhere
  reducer.finish();
  const double mean = (world().size() + 1) / 2.0;  // mean of 1..W
  EXPECT_TRUE(weight.grad().eq(float(mean)).all().item<bool>());
  EXPECT_TRUE(unused.grad().eq(0).all().item<bool>());
}

TEST(GradientReducer, BucketsOverlapBackwardAndEqualTheUnbucketedReference) {
  Pair pair;
  GradientReducerOptions options;
  options.bucket_megabytes = 0.05;  // tiny buckets: many of them
  GradientReducer reducer(*pair.model, world(), options);
  ASSERT_GE(reducer.bucket_count(), 8u);

  reducer.zero_gradients();
  reducer.before_backward(false);  // not armed: local gradients only
  pair.backward(0);
  const std::vector<at::Tensor> reference = unbucketed_average(gradients(*pair.model));

  reducer.zero_gradients();
  reducer.before_backward(true);
  pair.backward(0);
  const size_t started = reducer.buckets_started_in_backward();
  reducer.finish();
  const double difference = relative_difference(gradients(*pair.model), reference);
  if (world().is_root()) {
    std::printf("%zu buckets, %zu started during backward, relative difference %.3g\n",
                reducer.bucket_count(), started, difference);
  }
  EXPECT_LE(difference, 1e-6);
  // Most buckets start while backward still runs (a bucket waits for every gradient in it and
  // for the buckets before it).
  EXPECT_GE(started, reducer.bucket_count() / 2);
}

// Saving a model (a checkpoint, fine-tuning's best epoch) copies it to the host and leaves it in
// place: the hooks on its gradient accumulators still start buckets during backward.
TEST(GradientReducer, BucketsStillStartDuringBackwardAfterTheModelIsSaved) {
  Pair pair;
  GradientReducerOptions options;
  options.bucket_megabytes = 0.05;
  GradientReducer reducer(*pair.model, world(), options);
  const auto step = [&] {
    reducer.zero_gradients();
    reducer.before_backward(true);
    pair.backward(0);
    const size_t started = reducer.buckets_started_in_backward();
    reducer.finish();
    return started;
  };
  const size_t before = step();
  ASSERT_GE(before, reducer.bucket_count() / 2);
  electra::testing::TempDir dir;
  electra::testing::write_file(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
  write_model_files(*pair.model, dir / "vocab.txt", dir / "saved");
  EXPECT_EQ(step(), before);
}

TEST(GradientReducer, Bf16OnTheWireStaysCloseToFp32) {
  Pair pair;
  GradientReducerOptions options;
  options.bucket_megabytes = 0.2;
  options.wire_type = dist::ElementType::kBfloat16;
  GradientReducer reducer(*pair.model, world(), options);
  reducer.zero_gradients();
  reducer.before_backward(false);
  pair.backward(0);
  const std::vector<at::Tensor> reference = unbucketed_average(gradients(*pair.model));
  reducer.zero_gradients();
  reducer.before_backward(true);
  pair.backward(0);
  reducer.finish();
  const double difference = relative_difference(gradients(*pair.model), reference);
  if (world().is_root()) std::printf("bf16 wire: relative difference %.3g\n", difference);
  EXPECT_GT(difference, 0);     // it did go through bf16
  EXPECT_LE(difference, 1e-2);  // bf16 keeps 8 bits of mantissa
}

TEST(GradientReducer, AccumulationMicroBatchesAreReducedOnlyOnTheFinalOne) {
  Pair pair;
  GradientReducerOptions options;
  options.bucket_megabytes = 0.05;
  GradientReducer reducer(*pair.model, world(), options);
  // The local gradients of the first micro-batch, and of both.
  reducer.zero_gradients();
  reducer.before_backward(false);
  pair.backward(0);
  const std::vector<at::Tensor> first = gradients(*pair.model);
  pair.backward(1);
  const std::vector<at::Tensor> reference = unbucketed_average(gradients(*pair.model));

  reducer.zero_gradients();
  reducer.before_backward(false);
  pair.backward(0);
  EXPECT_EQ(relative_difference(gradients(*pair.model), first), 0)
      << "a non-final micro-batch was reduced";
  reducer.before_backward(true);
  pair.backward(1);
  reducer.finish();
  EXPECT_LE(relative_difference(gradients(*pair.model), reference), 1e-6);
}

TEST(GradientReducer, ParametersStayIdenticalOnEveryRank) {
  Pair pair;
  AdamW optimizer(*pair.model, AdamWOptions{});
  GradientReducer reducer(*pair.model, world());
  for (int step = 0; step < 3; ++step) {
    reducer.zero_gradients();
    reducer.before_backward(true);
    pair.backward(step);
    reducer.finish();
    clip_gradient_norm(*pair.model, 1.0);
    optimizer.step(1e-3);
  }
  // Sum of every parameter, gathered to rank 0: all ranks must agree to the bit.
  double checksum = 0;
  for (const auto& p : pair.model->parameters()) {
    checksum += p.to(torch::kDouble).sum().item<double>();
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", checksum);
  const auto all = world().gather_to_root(text);
  if (world().is_root()) {
    for (const auto& other : all) EXPECT_EQ(other, all.front());
  }
}

TEST(FlatAdamW, TwentyAccumulatedStepsOnTheseRanksAgreeWithThePerParameterReference) {
  // The same pair twice: one trained as the trainer does (flat storage, the bucketed reducer over
  // two micro-batches, flat clipping and AdamW), one with per-parameter tensors, one unbucketed
  // all-reduce of the accumulated gradients and the per-parameter AdamW and clipping.
  Pair flat, reference;
  AdamW optimizer(*flat.model, AdamWOptions{});
  GradientReducerOptions options;
  options.bucket_megabytes = 0.2;
  GradientReducer reducer(*flat.model, world(), options);
  testing::ReferenceAdamW reference_optimizer(*reference.model, AdamWOptions{});
  double difference = 0;  // the worst step's
  for (int step = 0; step < 20; ++step) {
    const double lr = scheduled_learning_rate(2e-3, step, 5, 20);
    reducer.zero_gradients();
    for (int micro = 0; micro < 2; ++micro) {
      reducer.before_backward(micro == 1);
      flat.backward(2 * step + micro);
    }
    reducer.finish();
    clip_gradient_norm(*flat.model, 1.0);
    optimizer.step(lr);

    reference.model->zero_grad();
    reference.backward(2 * step);
    reference.backward(2 * step + 1);
    const auto averaged = unbucketed_average(gradients(*reference.model));
    size_t i = 0;
    for (auto& p : reference.model->parameters()) p.mutable_grad().copy_(averaged[i++]);
    testing::ReferenceAdamW::clip(*reference.model, 1.0);
    reference_optimizer.step(lr);
    // Compared after every step, and the reference then takes the flat model's weights: the
    // generator's samples are discontinuous in the weights, so a difference at float's rounding
    // (AdamW's fused kernel rounds in another order than the reference's terms) can flip a sampled
    // token a few steps later and give its embedding row an update the other run does not make.
    std::vector<at::Tensor> a, b;
    for (const auto& p : flat.model->parameters()) a.push_back(p.detach());
    for (const auto& p : reference.model->parameters()) b.push_back(p.detach());
    difference = std::max(difference, relative_difference(a, b));
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  }
  if (world().is_root()) {
    std::printf("%d ranks x 2 micro-batches, 20 steps: flat vs per-parameter, worst step %.3g\n",
                world().size(), difference);
  }
  EXPECT_LE(difference, 1e-6);
}

}  // namespace
}  // namespace electra::train
