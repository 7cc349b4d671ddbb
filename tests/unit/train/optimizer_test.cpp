#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "app/model/electra_model.h"
#include "app/model/encoder.h"
#include "app/train/op_census.h"
#include "app/train/optimizer.h"
#include "unit/train/reference_adamw.h"

namespace electra::train {
namespace {

struct TwoLayers : torch::nn::Module {
  TwoLayers() {
    dense = register_module("dense", torch::nn::Linear(3, 2));
    norm = register_module("layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({2})));
  }
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};

TEST(AdamW, OneStepAsTheReferenceWithoutBiasCorrection) {
  TwoLayers net;
  torch::NoGradGuard init;
  net.dense->weight.fill_(0.5);
  const auto before_bias = net.dense->bias.clone();
  net.dense->weight.mutable_grad() = torch::full_like(net.dense->weight, 0.2);
  net.dense->bias.mutable_grad() = torch::full_like(net.dense->bias, -0.4);
  AdamW optimizer(net, AdamWOptions{});
  optimizer.step(0.1);
  // m = 0.1 g, v = 0.001 g^2, update = m / (sqrt(v) + eps) (+ 0.01 w for weights only).
  const double g = 0.2, m = 0.1 * g, v = 0.001 * g * g;
  const double weight_update = m / (std::sqrt(v) + 1e-6) + 0.01 * 0.5;
  EXPECT_NEAR(net.dense->weight[0][0].item<double>(), 0.5 - 0.1 * weight_update, 1e-6);
  const double gb = -0.4, mb = 0.1 * gb, vb = 0.001 * gb * gb;
  EXPECT_NEAR(net.dense->bias[0].item<double>(),
              before_bias[0].item<double>() - 0.1 * (mb / (std::sqrt(vb) + 1e-6)), 1e-6);
  EXPECT_TRUE(net.norm->weight.eq(1).all().item<bool>());  // no gradient: untouched
}

TEST(AdamW, LambScalesEachUpdateByItsTrustRatio) {
  TwoLayers net;
  torch::NoGradGuard init;
  net.dense->weight.copy_(torch::tensor({{1.0f, -2.0f, 0.5f}, {0.0f, 3.0f, -1.0f}}));
  const torch::Tensor w = net.dense->weight.clone();
  const torch::Tensor g = torch::tensor({{0.2f, -0.1f, 0.3f}, {0.05f, 0.0f, -0.4f}});
  net.dense->weight.mutable_grad() = g.clone();
  AdamWOptions options;
  options.lamb = true;
  AdamW optimizer(net, options);
  optimizer.step(0.1);
  const torch::Tensor update = (0.1 * g) / ((0.001 * g * g).sqrt() + 1e-6) + 0.01 * w;
  const double ratio = w.norm().item<double>() / update.norm().item<double>();
  EXPECT_TRUE(net.dense->weight.allclose(w - 0.1 * ratio * update, 1e-5, 1e-6));
}

TEST(AdamW, SavesAndLoadsItsMomentsByParameterName) {
  TwoLayers net;
  net.dense->weight.mutable_grad() = torch::full_like(net.dense->weight, 0.2);
  AdamW optimizer(net, AdamWOptions{});
  optimizer.step(0.1);
  optimizer.step(0.1);
  torch::serialize::OutputArchive out;
  optimizer.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  TwoLayers other;
  AdamW restored(other, AdamWOptions{});
  torch::serialize::InputArchive in;
  std::istringstream input(bytes.str());
  in.load_from(input);
  restored.load(in);
  EXPECT_EQ(restored.steps_taken(), 2);
  EXPECT_TRUE(restored.slots()[0].m.equal(optimizer.slots()[0].m));
  EXPECT_TRUE(restored.slots()[0].v.equal(optimizer.slots()[0].v));
}

TEST(AdamW, LayerNormAndBiasesTakeNoWeightDecay) {
  EXPECT_TRUE(excluded_from_weight_decay("embeddings.layer_norm.weight"));
  EXPECT_TRUE(excluded_from_weight_decay("discriminator.encoder.layers.0.attention_norm.weight"));
  EXPECT_TRUE(excluded_from_weight_decay("discriminator.head_dense.bias"));
  EXPECT_TRUE(excluded_from_weight_decay("generator.output_bias"));
  EXPECT_FALSE(excluded_from_weight_decay("discriminator.head_dense.weight"));
  EXPECT_FALSE(excluded_from_weight_decay("embeddings.word_embeddings.weight"));
}

TEST(AdamW, SharedEmbeddingsAreUpdatedOnce) {
  model::ElectraModel pair(model::ModelConfig::load("tiny"));
  AdamW optimizer(*pair, AdamWOptions{});
  int word_embeddings = 0;
  for (const auto& slot : optimizer.slots())
    word_embeddings += slot.name.find("word_embeddings") != std::string::npos;
  EXPECT_EQ(word_embeddings, 1);
  EXPECT_EQ(optimizer.slots().size(), pair->parameters().size());
}

TEST(Schedule, WarmupAndDecayMultiply) {
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(1e-3, 0, 100, 1000), 0.0);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(1e-3, 50, 100, 1000), 1e-3 * 0.5 * 0.95);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(1e-3, 100, 100, 1000), 1e-3 * 0.9);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(1e-3, 1000, 100, 1000), 0.0);
}

TEST(Clipping, ScalesTheGlobalNorm) {
  TwoLayers net;
  net.dense->weight.mutable_grad() = torch::full_like(net.dense->weight, 3.0);  // norm 6 * 3^2
  net.dense->bias.mutable_grad() = torch::full_like(net.dense->bias, 4.0);
  const double norm = clip_gradient_norm(net, 1.0).item<double>();
  EXPECT_NEAR(norm, std::sqrt(6 * 9.0 + 2 * 16.0), 1e-5);
  const double after = std::sqrt(net.dense->weight.grad().pow(2).sum().item<double>() +
                                 net.dense->bias.grad().pow(2).sum().item<double>());
  EXPECT_NEAR(after, 1.0, 1e-5);
}

// Two identical tiny pairs (the same seed); every step the same random gradients for both.
struct TwinPairs {
  model::ElectraModel flat{nullptr}, reference{nullptr};
  TwinPairs() {
    torch::manual_seed(5);
    flat = model::ElectraModel(model::ModelConfig::load("tiny"));
    torch::manual_seed(5);
    reference = model::ElectraModel(model::ModelConfig::load("tiny"));
  }
  void set_gradients(int step) {
    torch::NoGradGuard no_grad;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(1000 + step);
    auto a = flat->parameters(), b = reference->parameters();
    for (size_t i = 0; i < a.size(); ++i) {
      const at::Tensor g = at::randn(a[i].sizes(), generator) * 0.05;
      if (!a[i].grad().defined()) a[i].mutable_grad() = at::zeros_like(a[i]);
      a[i].mutable_grad().copy_(g);
      b[i].mutable_grad() = g.clone();
    }
  }
  // max |flat - reference| / max |reference| over every parameter, the worst parameter's.
  double difference() const {
    double worst = 0;
    auto a = flat->named_parameters(), b = reference->named_parameters();
    for (const auto& item : a) {
      const at::Tensor& r = b[item.key()];
      worst = std::max(worst, (item.value() - r).abs().max().item<double>() /
                                  std::max(r.abs().max().item<double>(), 1e-30));
    }
    return worst;
  }
};

void twenty_steps_agree(AdamWOptions options, bool frozen_generator, bool lr_scales) {
  TwinPairs pairs;
  AdamW flat(*pairs.flat, options);
  testing::ReferenceAdamW reference(*pairs.reference, options);
  if (lr_scales) {
    const auto scale = [](const std::string& name) {
      // layer-wise decay as fine-tuning gives it: deeper layers larger
      if (name.find("layers.0.") != std::string::npos) return layerwise_lr_factor(1, 4, 0.8);
      if (name.find("layers.3.") != std::string::npos) return layerwise_lr_factor(4, 4, 0.8);
      if (name.find("embeddings") != std::string::npos) return layerwise_lr_factor(0, 4, 0.8);
      return 1.0;
    };
    flat.set_lr_scales(scale);
    reference.set_lr_scales(scale);
  }
  for (int step = 0; step < 20; ++step) {
    if (frozen_generator && step == 5) {  // two-stage: the generator frozen from here on
      for (auto* pair : {&pairs.flat, &pairs.reference}) {
        for (auto& p : (*pair)->generator->parameters()) p.set_requires_grad(false);
      }
    }
    pairs.set_gradients(step);
    if (frozen_generator && step >= 5) {  // a frozen network gets no gradient
      torch::NoGradGuard no_grad;
      for (auto* pair : {&pairs.flat, &pairs.reference}) {
        for (auto& p : (*pair)->generator->parameters()) p.mutable_grad().zero_();
      }
    }
    const double lr = scheduled_learning_rate(1e-3, step, 5, 20);
    const double a = clip_gradient_norm(*pairs.flat, 1.0).item<double>();
    const double b = testing::ReferenceAdamW::clip(*pairs.reference, 1.0).item<double>();
    EXPECT_NEAR(a, b, 1e-5 * b);
    flat.step(lr);
    reference.step(lr);
  }
  const double difference = pairs.difference();
  std::printf("after 20 steps: largest relative difference %.3g\n", difference);
  EXPECT_LE(difference, 1e-6);
  EXPECT_EQ(flat.steps_taken(), 20);
}

TEST(FlatAdamW, TwentyStepsAgreeWithThePerParameterReference) {
  twenty_steps_agree(AdamWOptions{}, false, false);
}

TEST(FlatAdamW, WithFrozenParametersAsInTwoStage) {
  twenty_steps_agree(AdamWOptions{}, true, false);
}

TEST(FlatAdamW, WithLayerwiseDecay) {
  twenty_steps_agree(AdamWOptions{}, false, true);
}

TEST(FlatAdamW, LambAndBiasCorrectionAgreeToo) {
  AdamWOptions options;
  options.lamb = true;
  twenty_steps_agree(options, false, true);
  options.lamb = false, options.bias_correction = true;
  twenty_steps_agree(options, true, false);
}

TEST(FlatAdamW, AMaskedStepChangesNothing) {
  TwinPairs pairs;
  AdamW optimizer(*pairs.flat, AdamWOptions{});
  pairs.set_gradients(0);
  optimizer.step(1e-3);
  std::vector<at::Tensor> before;
  for (const auto& p : pairs.flat->parameters()) before.push_back(p.detach().clone());
  const at::Tensor m = optimizer.slots()[0].m.clone(), v = optimizer.slots()[0].v.clone();
  pairs.set_gradients(1);
  {
    torch::NoGradGuard no_grad;
    pairs.flat->parameters()[3].mutable_grad().fill_(std::nan(""));  // a non-finite step
  }
  optimizer.step(1e-3, at::scalar_tensor(false, at::kBool));
  const auto after = pairs.flat->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(after[i].equal(before[i])) << i;
  EXPECT_TRUE(optimizer.slots()[0].m.equal(m));
  EXPECT_TRUE(optimizer.slots()[0].v.equal(v));
  EXPECT_EQ(optimizer.steps_taken(), 1);
  optimizer.step(1e-3, at::scalar_tensor(true, at::kBool));
  EXPECT_EQ(optimizer.steps_taken(), 2);
}

// The optimiser's and the clipping's operator calls for one step of `preset`'s pair.
long long optimizer_calls(const std::string& preset, AdamWOptions options) {
  torch::manual_seed(1);
  model::ElectraModel pair(model::ModelConfig::load(preset));
  AdamW optimizer(*pair, options);
  for (auto& p : pair->parameters()) p.mutable_grad().fill_(0.01);
  const at::Tensor apply = at::scalar_tensor(true, at::kBool), lr = at::scalar_tensor(1e-3f);
  optimizer.step(lr, apply);  // a first step builds what later steps reuse
  OpCensus census;
  {
    StepPhaseScope phase(StepPhase::kOptimizer);
    clip_gradient_norm(*pair, 1.0);
    optimizer.step(lr, apply);
  }
  return census.total(StepPhase::kOptimizer).calls;
}

TEST(FlatAdamW, OperatorCallsDoNotGrowWithTheParameterCount) {
  for (const bool lamb : {false, true}) {
    AdamWOptions options;
    options.lamb = lamb;
    const long long tiny = optimizer_calls("tiny", options),
                    small = optimizer_calls("small", options);
    std::printf("%s + clipping: %lld operator calls (tiny), %lld (small)\n",
                lamb ? "LAMB" : "AdamW", tiny, small);
    EXPECT_EQ(tiny, small);
    EXPECT_LE(small, 40);
  }
}

// AdamW's update is one call of LibTorch's fused kernel (one pass over the parameters, the
// masked step skipped inside it), plus the step count and the mask's flip: no pass per term.
TEST(FlatAdamW, AdamWIsOneFusedPassOverTheParameters) {
  torch::manual_seed(1);
  model::ElectraModel pair(model::ModelConfig::load("small"));
  AdamW optimizer(*pair, AdamWOptions{});
  for (auto& p : pair->parameters()) p.mutable_grad().fill_(0.01);
  const at::Tensor apply = at::scalar_tensor(true, at::kBool), lr = at::scalar_tensor(1e-3f);
  optimizer.step(lr, apply);
  OpCensus census;
  {
    StepPhaseScope phase(StepPhase::kOptimizer);
    optimizer.step(lr, apply);
  }
  const auto counts = census.total(StepPhase::kOptimizer);
  for (const auto& [name, calls] : counts.by_operator)
    std::printf("%s %lld\n", name.c_str(), calls);
  // two runs: the weights that decay and the biases and LayerNorms that do not
  EXPECT_EQ(counts.by_operator.count("aten::_fused_adamw_")
                ? counts.by_operator.at("aten::_fused_adamw_")
                : 0,
            2);
  EXPECT_LE(counts.calls, 6);
  EXPECT_EQ(counts.syncs, 0);
}

TEST(FlatAdamW, ReadsOptimizerStateWrittenBeforeTheAttentionFusion) {
  model::ElectraModel pair(model::ModelConfig::load("tiny"));
  AdamW optimizer(*pair, AdamWOptions{});
  // An archive as the per-parameter optimiser wrote it: query, key and value apart.
  torch::serialize::OutputArchive archive;
  archive.write("steps", torch::tensor(int64_t(7)));
  std::map<std::string, at::Tensor> fused_m;
  for (const auto& slot : optimizer.slots()) {
    const auto parts = model::unfused_attention_names(slot.name);
    for (const char* prefix : {"m.", "v."}) {
      if (parts.empty()) {
        archive.write(prefix + slot.name, at::full_like(slot.m, 0.5));
        continue;
      }
      std::vector<at::Tensor> pieces;
      for (size_t i = 0; i < parts.size(); ++i) {
        pieces.push_back(at::full_like(slot.m.chunk(3, 0)[i], double(i + 1)));
        archive.write(prefix + parts[i], pieces.back());
      }
      fused_m[slot.name] = at::cat(pieces, 0);
    }
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  torch::serialize::InputArchive in;
  std::istringstream input(bytes.str());
  in.load_from(input);
  optimizer.load(in);
  EXPECT_EQ(optimizer.steps_taken(), 7);
  ASSERT_FALSE(fused_m.empty());
  for (const auto& slot : optimizer.slots()) {
    if (fused_m.count(slot.name)) {
      EXPECT_TRUE(slot.m.equal(fused_m[slot.name])) << slot.name;
    } else {
      EXPECT_TRUE(slot.m.eq(0.5).all().item<bool>()) << slot.name;
    }
  }
}

TEST(FlatParameters, ParametersViewOneBufferAndComeBackAfterALoad) {
  model::ElectraModel pair(model::ModelConfig::load("tiny"));
  auto flat = FlatParameters::of(*pair);
  EXPECT_EQ(flat.get(), FlatParameters::of(*pair).get());  // one per module
  ASSERT_EQ(flat->groups().size(), 1u);
  const auto& group = flat->groups().front();
  int64_t elements = 0;
  for (const auto& p : pair->parameters()) elements += p.numel();
  EXPECT_EQ(group.values.numel(), elements);  // every parameter once (shared ones once)
  // A load replaces the parameters' storage (LibTorch's archives set_ it); bind() copies the
  // values back into the buffer.
  torch::serialize::OutputArchive archive;
  {
    torch::NoGradGuard no_grad;
    model::ElectraModel other(model::ModelConfig::load("tiny"));
    for (auto& p : other->parameters()) p.fill_(0.25);
    other->save(archive);
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  torch::serialize::InputArchive in;
  std::istringstream input(bytes.str());
  in.load_from(input);
  pair->load(in);
  flat->bind();
  EXPECT_TRUE(group.values.eq(0.25).all().item<bool>());
  const auto* base = static_cast<const char*>(group.values.data_ptr());
  for (const auto& segment : group.segments) {
    EXPECT_EQ(segment.parameter.data_ptr(), base + segment.offset * 4) << segment.name;
  }
}

}  // namespace
}  // namespace electra::train
