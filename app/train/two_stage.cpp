#include "app/train/two_stage.h"

#include <cstdio>
#include <stdexcept>

#include "app/train/optimizer.h"

namespace electra::train {

namespace {

bool same_shape(const model::EncoderConfig& a, const model::EncoderConfig& b) {
  return a.hidden_size == b.hidden_size && a.num_hidden_layers == b.num_hidden_layers &&
         a.num_attention_heads == b.num_attention_heads &&
         a.intermediate_size == b.intermediate_size;
}

bool is_generator_head(const std::string& name) {
  return name.rfind("head_", 0) == 0 || name == "output_bias";
}

void set_trainable(torch::nn::Module& module, bool trainable) {
  for (auto& p : module.parameters()) p.set_requires_grad(trainable);
}

}  // namespace

std::string phase_name(TwoStagePhase phase) {
  return phase == TwoStagePhase::kGenerator ? "generator" : "discriminator";
}

TwoStagePhase phase_of_step(long long step, long long train_steps) {
  return step <= train_steps / 2 ? TwoStagePhase::kGenerator : TwoStagePhase::kDiscriminator;
}

model::ModelConfig two_stage_model(const model::ModelConfig& configured) {
  model::ModelConfig config = configured;
  config.generator = config.discriminator;
  config.share_embeddings = false;
  return config;
}

std::string reshape_for_strategy(model::ModelConfig& model, const std::string& strategy,
                                 long long train_steps) {
  if (strategy != "two-stage" && strategy != "mlm") return "";
  const model::EncoderConfig configured = model.generator;
  model = two_stage_model(model);
  const model::EncoderConfig& g = model.generator;
  char text[512];
  if (strategy == "mlm") {
    std::snprintf(text, sizeof text,
                  "--strategy mlm: BERT's masked-language-model objective alone on a model of the "
                  "discriminator's size (hidden %lld, %lld layers, %lld heads, FFN %lld); each "
                  "checkpoint's discriminator is a copy of its encoder, for fine-tuning",
                  (long long)g.hidden_size, (long long)g.num_hidden_layers,
                  (long long)g.num_attention_heads, (long long)g.intermediate_size);
  } else {
    std::snprintf(text, sizeof text,
                  "--strategy two-stage: a generator of the discriminator's size (hidden %lld, "
                  "%lld layers, %lld heads, FFN %lld; configured: hidden %lld, %lld layers) with "
                  "embeddings of its own; steps 1-%lld train it alone, steps %lld-%lld the "
                  "discriminator from its weights",
                  (long long)g.hidden_size, (long long)g.num_hidden_layers,
                  (long long)g.num_attention_heads, (long long)g.intermediate_size,
                  (long long)configured.hidden_size, (long long)configured.num_hidden_layers,
                  train_steps / 2, train_steps / 2 + 1, train_steps);
  }
  return text;
}

void initialise_discriminator_from_generator(model::ElectraModelImpl& model) {
  if (model.config.share_embeddings || !model.generator_embeddings ||
      !same_shape(model.config.generator, model.config.discriminator)) {
    throw std::logic_error(
        "two-stage training needs a generator of the discriminator's size with embeddings of "
        "its own");
  }
  torch::NoGradGuard no_grad;
  const auto copy = [](torch::nn::Module& from, torch::nn::Module& to, bool skip_heads) {
    auto targets = to.named_parameters();
    for (const auto& item : from.named_parameters()) {
      if (skip_heads && is_generator_head(item.key())) continue;
      torch::Tensor* target = targets.find(item.key());
      if (!target) throw std::logic_error("the discriminator has no parameter " + item.key());
      target->copy_(item.value());
    }
  };
  copy(*model.generator_embeddings, *model.embeddings, false);
  copy(*model.generator, *model.discriminator, true);
}

void enter_phase(model::ElectraModelImpl& model, TwoStagePhase phase) {
  const bool generator = phase == TwoStagePhase::kGenerator;
  set_trainable(*model.generator, generator);
  if (model.generator_embeddings) set_trainable(*model.generator_embeddings, generator);
  set_trainable(*model.discriminator, !generator);
  set_trainable(*model.embeddings, !generator || model.config.share_embeddings);
  model.train();
  if (!generator) {
    model.generator->eval();
    if (model.generator_embeddings) model.generator_embeddings->eval();
  }
}

double two_stage_learning_rate(double lr, long long steps_done, long long warmup_steps,
                               long long train_steps) {
  const long long stage = train_steps / 2;
  const long long within = steps_done < stage ? steps_done : steps_done - stage;
  return scheduled_learning_rate(lr, within, warmup_steps, stage);
}

}  // namespace electra::train
