// BERT's post-LayerNorm transformer encoder (as HuggingFace's ElectraLayer): self-attention with
// the padding mask, then a GELU (erf) feed-forward block, each followed by dropout, the residual
// and LayerNorm.
#pragma once

#include "app/model/model_config.h"
#include "app/model/torch_modules.h"

namespace electra::model {

struct EncoderLayerImpl : torch::nn::Module {
  EncoderLayerImpl(const EncoderConfig& config, const ModelConfig& shared);
  // x [B, L, H]; attention_bias [B, 1, 1, L]: 0 for tokens, a large negative value for padding.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attention_bias);

  int64_t num_heads;
  double attention_dropout;
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_output{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  torch::nn::Linear intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(EncoderLayer);

struct EncoderImpl : torch::nn::Module {
  EncoderImpl(const EncoderConfig& config, const ModelConfig& shared);
  // x [B, L, H], attention_mask [B, L] (1 = token, 0 = padding) -> [B, L, H]
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& attention_mask);

  torch::nn::ModuleList layers;
};
TORCH_MODULE(Encoder);

// The additive attention bias [B, 1, 1, L] for a padding mask [B, L], in `dtype`.
torch::Tensor attention_bias_from_mask(const torch::Tensor& attention_mask, torch::Dtype dtype);

}  // namespace electra::model
