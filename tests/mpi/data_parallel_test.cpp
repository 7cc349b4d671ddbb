// Run under mpirun -np 2 and -np 4: gradient averaging and data-parallel training keep every
// rank's parameters identical.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "app/model/electra_model.h"
#include "app/train/electra_step.h"
#include "app/train/gradient_sync.h"
#include "app/train/optimizer.h"
#include "dist/communicator.h"

namespace electra::train {
namespace {

dist::Communicator& world() {
  static std::unique_ptr<dist::Communicator> communicator = dist::make_world_communicator();
  return *communicator;
}

TEST(DataParallel, AveragesGradientsAcrossRanks) {
  ASSERT_GE(world().size(), 2) << "run under mpirun";
  torch::nn::Module module;
  auto weight = module.register_parameter("weight", torch::zeros({3, 4}));
  auto unused = module.register_parameter("unused", torch::zeros({2}));
  weight.mutable_grad() = torch::full({3, 4}, float(world().rank() + 1));
  average_gradients(module, world());
  const double mean = (world().size() + 1) / 2.0;  // mean of 1..W
  EXPECT_TRUE(weight.grad().eq(float(mean)).all().item<bool>());
  EXPECT_TRUE(unused.grad().eq(0).all().item<bool>());  // no gradient anywhere: zeros
}

TEST(DataParallel, ParametersStayIdenticalOnEveryRank) {
  torch::manual_seed(1234);  // the same initial model on every rank
  auto config = model::ModelConfig::load("tiny");
  model::ElectraModel pair(config);
  AdamW optimizer(*pair, AdamWOptions{});
  StepOptions options;
  options.masking.max_predictions = max_predictions_per_seq(0.15, 32);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(100 + world().rank());  // per-rank data
  for (int step = 0; step < 3; ++step) {
    auto ids = at::randint(1000, 2000, {4, 32}, generator, at::kLong);
    ids.select(1, 0).fill_(101);
    ids.select(1, 31).fill_(102);
    const Batch batch{ids, at::ones_like(ids), at::zeros_like(ids)};
    pair->zero_grad();
    auto out = electra_forward(*pair, batch, options, RowRandom(generator));
    out.total.backward();
    average_gradients(*pair, world());
    clip_gradient_norm(*pair, 1.0);
    optimizer.step(1e-3);
  }
  // Sum of every parameter, gathered to rank 0: all ranks must agree to the bit.
  double checksum = 0;
  for (const auto& p : pair->parameters()) checksum += p.to(torch::kDouble).sum().item<double>();
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", checksum);
  const auto all = world().gather_to_root(text);
  if (world().is_root()) {
    for (const auto& other : all) EXPECT_EQ(other, all.front());
  }
}

}  // namespace
}  // namespace electra::train
