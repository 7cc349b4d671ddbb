#include "app/model/electra_model.h"

#include <torch/nn/init.h>

#include "app/model/autocast.h"
#include "app/model/dropout.h"

namespace electra::model {

namespace {

torch::nn::LayerNorm make_layer_norm(int64_t size, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({size}).eps(eps));
}

}  // namespace

EmbeddingsImpl::EmbeddingsImpl(const ModelConfig& config) {
  word_embeddings = register_module("word_embeddings",
                                    torch::nn::Embedding(config.vocab_size, config.embedding_size));
  position_embeddings =
      register_module("position_embeddings",
                      torch::nn::Embedding(config.max_position_embeddings, config.embedding_size));
  token_type_embeddings = register_module(
      "token_type_embeddings", torch::nn::Embedding(config.type_vocab_size, config.embedding_size));
  layer_norm =
      register_module("layer_norm", make_layer_norm(config.embedding_size, config.layer_norm_eps));
  dropout = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
}

torch::Tensor EmbeddingsImpl::forward(const torch::Tensor& input_ids,
                                      const torch::Tensor& token_type_ids, bool word_gradients) {
  const torch::Tensor positions =
      torch::arange(input_ids.size(1), input_ids.options().dtype(torch::kLong));
  torch::Tensor words = word_embeddings(input_ids);
  if (!word_gradients) words = words.detach();
  torch::Tensor sum =
      words + position_embeddings(positions) + token_type_embeddings(token_type_ids);
  return model::dropout(layer_norm(sum), dropout->options.p(), is_training());
}

EncoderStackImpl::EncoderStackImpl(const EncoderConfig& config, const ModelConfig& shared,
                                   Embeddings shared_embeddings)
    : embeddings(std::move(shared_embeddings)) {
  if (shared.embedding_size != config.hidden_size) {
    embeddings_project = register_module(
        "embeddings_project", torch::nn::Linear(shared.embedding_size, config.hidden_size));
  }
  encoder = register_module("encoder", Encoder(config, shared));
}

EncoderStackImpl::Output EncoderStackImpl::encode(const torch::Tensor& input_ids,
                                                  const torch::Tensor& token_type_ids,
                                                  const torch::Tensor& attention_mask) {
  torch::Tensor x = embeddings->forward(input_ids, token_type_ids, trains_word_embeddings);
  if (embeddings_project) x = embeddings_project(x);
  return {x, encoder(x, attention_mask)};
}

DiscriminatorImpl::DiscriminatorImpl(const ModelConfig& config, Embeddings embeddings)
    : EncoderStackImpl(config.discriminator, config, std::move(embeddings)) {
  trains_word_embeddings = config.discriminator_trains_word_embeddings;
  const int64_t h = config.discriminator.hidden_size;
  head_dense = register_module("head_dense", torch::nn::Linear(h, h));
  head_prediction = register_module("head_prediction", torch::nn::Linear(h, 1));
}

torch::Tensor DiscriminatorImpl::head(const torch::Tensor& last_hidden) {
  return head_prediction(torch::gelu(head_dense(last_hidden))).squeeze(-1);
}

GeneratorImpl::GeneratorImpl(const ModelConfig& config, Embeddings embeddings)
    : EncoderStackImpl(config.generator, config, std::move(embeddings)) {
  head_dense = register_module(
      "head_dense", torch::nn::Linear(config.generator.hidden_size, config.embedding_size));
  head_norm =
      register_module("head_norm", make_layer_norm(config.embedding_size, config.layer_norm_eps));
  output_bias = register_parameter("output_bias", torch::zeros({config.vocab_size}));
}

torch::Tensor GeneratorImpl::logits_at(const torch::Tensor& last_hidden,
                                       const torch::Tensor& positions) {
  const int64_t hidden = last_hidden.size(2);
  const torch::Tensor index = positions.unsqueeze(-1).expand({-1, -1, hidden});     // [B, P, H]
  const torch::Tensor gathered = last_hidden.gather(1, index);                      // [B, P, H]
  const torch::Tensor h = normalize(head_norm, torch::gelu(head_dense(gathered)));  // [B, P, E]
  // The vocabulary projection in fp32, autocast or not (it feeds the sampling and the loss).
  Fp32Region fp32;
  return torch::addmm(output_bias, h.to(torch::kFloat).view({-1, h.size(-1)}),
                      embeddings->word_embeddings->weight.t())
      .view({h.size(0), h.size(1), -1});
}

ElectraModelImpl::ElectraModelImpl(const ModelConfig& model_config) : config(model_config) {
  config.validate("model config");
  embeddings = register_module("embeddings", Embeddings(config));
  if (!config.share_embeddings) {
    generator_embeddings = register_module("generator_embeddings", Embeddings(config));
  }
  generator = register_module(
      "generator", Generator(config, config.share_embeddings ? embeddings : generator_embeddings));
  discriminator = register_module("discriminator", Discriminator(config, embeddings));
  initialize_weights();
}

void ElectraModelImpl::initialize_weights() {
  torch::NoGradGuard no_grad;
  const double std = config.initializer_range;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      linear->weight.normal_(0.0, std);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* embedding = module->as<torch::nn::Embedding>()) {
      embedding->weight.normal_(0.0, std);
    } else if (auto* norm = module->as<torch::nn::LayerNorm>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
  embeddings->word_embeddings->weight[config.pad_token_id].zero_();
  if (generator_embeddings)
    generator_embeddings->word_embeddings->weight[config.pad_token_id].zero_();
  generator->output_bias.zero_();
}

bool is_generators_own(const std::string& parameter_name) {
  return parameter_name.rfind("generator.", 0) == 0 ||
         parameter_name.rfind("generator_embeddings.", 0) == 0;
}

}  // namespace electra::model
