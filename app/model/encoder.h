// BERT's post-LayerNorm transformer encoder (as HuggingFace's ElectraLayer): self-attention with
// the padding mask, then a GELU (erf) feed-forward block, each followed by dropout, the residual
// and LayerNorm. The query, key and value projections are one linear layer (H -> 3H: one matrix
// product instead of three); HuggingFace's files hold them as three (app/model/hf_format).
#pragma once

#include <string>
#include <vector>

#include "app/model/model_config.h"
#include "app/model/torch_modules.h"

namespace electra::model {

struct EncoderLayerImpl : torch::nn::Module {
  // `index`: the layer's place in its stack (whether it gets a local head, model_config.h).
  EncoderLayerImpl(const EncoderConfig& config, const ModelConfig& shared, int64_t index);
  // x [B, L, H]; attention_bias [B, 1, 1, L]: 0 for tokens, the compute dtype's lowest finite
  // value for padding; undefined when nothing is padded (flash attention kernels need no mask).
  // A layer with a local head is given that head's bias added ([B or 1, heads, L, L]; Encoder
  // builds it once for the stack).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attention_bias);
  // Also reads model files written before the projections were fused (query, key, value apart).
  void load(torch::serialize::InputArchive& archive) override;

  int64_t num_heads;
  double attention_dropout;
  bool local_head = false;  // its first head is fixed on the neighbours (local_head_bias)
  torch::nn::Linear query_key_value{nullptr};  // rows: query, key, value (H each)
  torch::nn::Linear attention_output{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  torch::nn::Linear intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};
  torch::nn::Dropout dropout{nullptr};  // its probability; applied by model::dropout (dropout.h)
};
TORCH_MODULE(EncoderLayer);

struct EncoderImpl : torch::nn::Module {
  EncoderImpl(const EncoderConfig& config, const ModelConfig& shared);
  // x [B, L, H], attention_mask [B, L] (1 = token, 0 = padding; undefined: no padding) -> [B, L, H]
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& attention_mask);

  torch::nn::ModuleList layers;
  double local_slope = 0;  // model_config.h: the local heads' bias, for the layers that have one
  int64_t local_centre = 0;
};
TORCH_MODULE(Encoder);

// Scaled dot-product attention, softmax(q k^T / sqrt(d) + bias) v, with dropout on the
// probabilities: q, k, v [B, heads, L, d]; attention_bias broadcastable to [B, heads, L, L]
// ([B, 1, 1, L] for padding alone) or undefined.
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& attention_bias, double dropout_p);

// Whether layer `index` of a stack of `config`'s shape gets a local head (model_config.h).
bool has_local_head(const EncoderConfig& config, const ModelConfig& shared, int64_t index);

// [1, heads, L, L] in `dtype` on `device`: -slope x ||key - query| - centre| for the first head,
// 0 for the others; added to the scores (and to the padding bias, which broadcasts over heads and
// queries).
torch::Tensor local_head_bias(int64_t heads, int64_t length, double slope, int64_t centre,
                              torch::Dtype dtype, torch::Device device);

// The additive attention bias [B, 1, 1, L] for a padding mask [B, L], in `dtype`: 0 for tokens,
// dtype's lowest finite value for padding (never -inf: a fully masked row stays finite).
torch::Tensor attention_bias_from_mask(const torch::Tensor& attention_mask, torch::Dtype dtype);

// LayerNorm in its parameters' dtype (fp32): under autocast a bf16 input is widened first, as
// CUDA's autocast does and CPU's (LibTorch 1.13) does not.
inline torch::Tensor normalize(torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  const auto dtype = norm->weight.scalar_type();
  return norm(x.scalar_type() == dtype ? x : x.to(dtype));
}

// The fused projection's module name, and for a parameter name under it
// ("....query_key_value.weight") the names its three parts had before the fusion
// ("....query.weight", "....key.weight", "....value.weight"); empty for other names.
inline constexpr const char* kFusedAttentionProjection = "query_key_value";
std::vector<std::string> unfused_attention_names(const std::string& fused_name);

}  // namespace electra::model
