#include "app/model/encoder.h"

#include <torch/serialize/input-archive.h>

#include <cmath>
#include <limits>

#include "app/model/autocast.h"
#include "app/model/dropout.h"

namespace electra::model {

torch::Tensor attention_bias_from_mask(const torch::Tensor& attention_mask, torch::Dtype dtype) {
  // As HuggingFace: (1 - mask) * the lowest finite value, so masked keys get zero weight.
  const double lowest = dtype == torch::kFloat64    ? std::numeric_limits<double>::lowest()
                        : dtype == torch::kBFloat16 ? -3.38953139e38
                        : dtype == torch::kFloat16  ? -65504.0
                                                    : double(std::numeric_limits<float>::lowest());
  return (1.0 - attention_mask.to(dtype)).mul(lowest).unsqueeze(1).unsqueeze(2);
}

std::vector<std::string> unfused_attention_names(const std::string& fused_name) {
  const std::string fused = std::string(".") + kFusedAttentionProjection + ".";
  const size_t at = fused_name.find(fused);
  if (at == std::string::npos) return {};
  std::vector<std::string> names;
  for (const char* part : {".query.", ".key.", ".value."}) {
    names.push_back(fused_name.substr(0, at) + part + fused_name.substr(at + fused.size()));
  }
  return names;
}

bool has_local_head(const EncoderConfig& config, const ModelConfig& shared, int64_t index) {
  return shared.local_head_slope > 0 &&
         (config.num_attention_heads > 1 || index < config.num_hidden_layers / 2);
}

torch::Tensor local_head_bias(int64_t heads, int64_t length, double slope, int64_t centre,
                              torch::Dtype dtype, torch::Device device) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const torch::Tensor positions = torch::arange(length, options);
  const torch::Tensor offset = (positions.unsqueeze(0) - positions.unsqueeze(1)).abs();
  const torch::Tensor first = offset.sub(static_cast<double>(centre)).abs().mul(-slope);  // [q, k]
  torch::Tensor bias = torch::zeros({1, heads, length, length}, options);
  bias.select(1, 0).copy_(first.unsqueeze(0));
  return bias.to(dtype);
}

EncoderLayerImpl::EncoderLayerImpl(const EncoderConfig& config, const ModelConfig& shared,
                                   int64_t index)
    : num_heads(config.num_attention_heads),
      attention_dropout(shared.attention_probs_dropout_prob),
      local_head(has_local_head(config, shared, index)) {
  const int64_t h = config.hidden_size;
  query_key_value = register_module(kFusedAttentionProjection, torch::nn::Linear(h, 3 * h));
  attention_output = register_module("attention_output", torch::nn::Linear(h, h));
  attention_norm = register_module(
      "attention_norm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(shared.layer_norm_eps)));
  intermediate = register_module("intermediate", torch::nn::Linear(h, config.intermediate_size));
  output = register_module("output", torch::nn::Linear(config.intermediate_size, h));
  output_norm = register_module(
      "output_norm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(shared.layer_norm_eps)));
  dropout = register_module("dropout", torch::nn::Dropout(shared.hidden_dropout_prob));
}

void EncoderLayerImpl::load(torch::serialize::InputArchive& archive) {
  for (const auto& child : named_children()) {
    torch::serialize::InputArchive part;
    if (child.key() != kFusedAttentionProjection || archive.try_read(child.key(), part)) {
      if (child.key() != kFusedAttentionProjection) archive.read(child.key(), part);
      child.value()->load(part);
      continue;
    }
    // Written before the fusion: the query, key and value layers apart, stacked here by rows.
    std::vector<torch::Tensor> weights, biases;
    for (const char* name : {"query", "key", "value"}) {
      torch::serialize::InputArchive layer;
      archive.read(name, layer);  // throws naming the key when neither form is there
      torch::Tensor weight, bias;
      layer.read("weight", weight);
      layer.read("bias", bias);
      weights.push_back(weight), biases.push_back(bias);
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor weight = torch::cat(weights, 0), bias = torch::cat(biases, 0);
    if (!weight.sizes().equals(query_key_value->weight.sizes()) ||
        !bias.sizes().equals(query_key_value->bias.sizes())) {
      throw std::runtime_error("the attention's query, key and value do not match the model");
    }
    query_key_value->weight.copy_(weight);
    query_key_value->bias.copy_(bias);
  }
}

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& attention_bias, double dropout_p) {
  if (dropout_p > 0.0 && q.device().is_cpu()) {
    // Training on the CPU: LibTorch's attention would take its math path, with its one-thread
    // dropout; the same math with ours (app/model/dropout.h).
    const torch::Tensor scores = torch::matmul(q * (1.0 / std::sqrt(double(q.size(-1)))),
                                               k.transpose(-2, -1));  // [B, heads, L, L]
    const torch::Tensor probs =
        torch::softmax(attention_bias.defined() ? scores + attention_bias : scores, -1);
    return torch::matmul(model::dropout(probs, dropout_p, true), v);
  }
  // Flash / memory-efficient kernels on CUDA (flash only without a mask), softmax(q k^T / sqrt(d)
  // + bias) v elsewhere.
  const c10::optional<torch::Tensor> mask =
      attention_bias.defined() ? c10::optional<torch::Tensor>(attention_bias) : c10::nullopt;
  return at::scaled_dot_product_attention(q, k, v, mask, dropout_p);
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x,
                                        const torch::Tensor& attention_bias) {
  const int64_t batch = x.size(0), length = x.size(1), hidden = x.size(2);
  const int64_t head_size = hidden / num_heads;
  // [B, L, 3H] -> query, key and value [B, heads, L, d]
  const auto qkv = query_key_value(x)
                       .view({batch, length, 3, num_heads, head_size})
                       .permute({2, 0, 3, 1, 4})
                       .unbind(0);
  const torch::Tensor &q = qkv[0], &k = qkv[1], &v = qkv[2];
  torch::Tensor context = attend(q, k, v, attention_bias, is_training() ? attention_dropout : 0.0);
  context = context.transpose(1, 2).reshape({batch, length, hidden});  // [B, L, H]
  const double p = dropout->options.p();
  const torch::Tensor attended =
      normalize(attention_norm, model::dropout(attention_output(context), p, is_training()) + x);
  const torch::Tensor expanded = torch::gelu(intermediate(attended));  // erf GELU
  return normalize(output_norm, model::dropout(output(expanded), p, is_training()) + attended);
}

EncoderImpl::EncoderImpl(const EncoderConfig& config, const ModelConfig& shared)
    : local_slope(shared.local_head_slope), local_centre(shared.local_head_centre) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.num_hidden_layers; ++i)
    layers->push_back(EncoderLayer(config, shared, i));
}

torch::Tensor EncoderImpl::forward(torch::Tensor x, const torch::Tensor& attention_mask) {
  // The bias in the dtype attention computes in (bf16 under autocast), built once for all layers.
  const auto dtype = compute_dtype(x);
  const torch::Tensor bias =
      attention_mask.defined() ? attention_bias_from_mask(attention_mask, dtype) : torch::Tensor();
  // Likewise the local heads' bias with the padding's, for the layers that have one (one [B,
  // heads, L, L] tensor for the stack, not one per layer kept for the backward pass).
  torch::Tensor with_local;
  for (const auto& module : *layers) {
    auto* layer = module->as<EncoderLayer>();
    if (layer->local_head && !with_local.defined()) {
      const torch::Tensor local = local_head_bias(layer->num_heads, x.size(1), local_slope,
                                                  local_centre, dtype, x.device());
      with_local = bias.defined() ? bias + local : local;
    }
    x = layer->forward(x, layer->local_head ? with_local : bias);
  }
  return x;
}

}  // namespace electra::model
