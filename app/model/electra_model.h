// The ELECTRA pair: one Embeddings module shared by the generator (a small masked LM whose output
// layer is tied to the word embeddings) and the discriminator (replaced-token detection) — or,
// with config.share_embeddings false, a second one of the generator's own.
#pragma once

#include <string>

#include "app/model/encoder.h"
#include "app/model/model_config.h"
#include "app/model/torch_modules.h"

namespace electra::model {

// Word + position + token-type embeddings, LayerNorm, dropout: [B, L] -> [B, L, E].
struct EmbeddingsImpl : torch::nn::Module {
  explicit EmbeddingsImpl(const ModelConfig& config);
  // word_gradients false: the word rows are read without a gradient (the caller does not train
  // them; the other tables and the LayerNorm still do).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        bool word_gradients = true);

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr},
      token_type_embeddings{nullptr};
  torch::nn::LayerNorm layer_norm{nullptr};
  torch::nn::Dropout dropout{nullptr};  // its probability; applied by model::dropout (dropout.h)
};
TORCH_MODULE(Embeddings);

// Shared embeddings (not registered here: the pair owns them) -> projection to H when E != H ->
// encoder.
struct EncoderStackImpl : torch::nn::Module {
  EncoderStackImpl(const EncoderConfig& config, const ModelConfig& shared, Embeddings embeddings);
  struct Output {
    torch::Tensor embedding_output;  // [B, L, H] after the projection
    torch::Tensor last_hidden;       // [B, L, H]
  };
  // attention_mask [B, L] (1 = token, 0 = padding), or undefined when nothing is padded.
  Output encode(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                const torch::Tensor& attention_mask);

  Embeddings embeddings;                          // shared, owned by the pair
  torch::nn::Linear embeddings_project{nullptr};  // E -> H, only when E != H
  Encoder encoder{nullptr};
  bool trains_word_embeddings = true;  // false: its loss leaves the word rows to the other network
};

struct DiscriminatorImpl : EncoderStackImpl {
  DiscriminatorImpl(const ModelConfig& config, Embeddings embeddings);
  // Replaced-token logits [B, L] from the last hidden states [B, L, H].
  torch::Tensor head(const torch::Tensor& last_hidden);
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        const torch::Tensor& attention_mask) {
    return head(encode(input_ids, token_type_ids, attention_mask).last_hidden);
  }

  torch::nn::Linear head_dense{nullptr}, head_prediction{nullptr};  // H -> H -> 1
};
TORCH_MODULE(Discriminator);

struct GeneratorImpl : EncoderStackImpl {
  GeneratorImpl(const ModelConfig& config, Embeddings embeddings);
  // Vocabulary logits [B, P, V] at `positions` [B, P] of the last hidden states [B, L, H]: the
  // hidden states are gathered first, so the head (dense -> GELU -> LayerNorm -> word
  // embeddings^T + bias) runs on the masked positions only.
  torch::Tensor logits_at(const torch::Tensor& last_hidden, const torch::Tensor& positions);

  torch::nn::Linear head_dense{nullptr};  // H_gen -> E
  torch::nn::LayerNorm head_norm{nullptr};
  torch::Tensor output_bias;  // [V]
};
TORCH_MODULE(Generator);

struct ElectraModelImpl : torch::nn::Module {
  explicit ElectraModelImpl(const ModelConfig& config);
  // Initialisation as the reference: normal(0, initializer_range) for weights and embeddings
  // (the padding row zero), zero biases, LayerNorm weight 1 and bias 0.
  void initialize_weights();

  ModelConfig config;
  Embeddings embeddings{nullptr};            // the discriminator's, and the generator's when shared
  Embeddings generator_embeddings{nullptr};  // only when !config.share_embeddings
  Generator generator{nullptr};
  Discriminator discriminator{nullptr};
};
TORCH_MODULE(ElectraModel);

// True for an ElectraModel parameter that only the generator uses: its encoder and head, and its
// own embeddings when they are not shared ("generator." and "generator_embeddings." names).
bool is_generators_own(const std::string& parameter_name);

}  // namespace electra::model
