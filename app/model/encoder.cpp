#include "app/model/encoder.h"

#include <cmath>

namespace electra::model {

torch::Tensor attention_bias_from_mask(const torch::Tensor& attention_mask, torch::Dtype dtype) {
  // As HuggingFace: (1 - mask) * the lowest finite value, so masked keys get zero weight.
  const double lowest = dtype == torch::kFloat64    ? std::numeric_limits<double>::lowest()
                        : dtype == torch::kBFloat16 ? -3.38953139e38
                        : dtype == torch::kFloat16  ? -65504.0
                                                    : double(std::numeric_limits<float>::lowest());
  return (1.0 - attention_mask.to(dtype)).mul(lowest).unsqueeze(1).unsqueeze(2);
}

EncoderLayerImpl::EncoderLayerImpl(const EncoderConfig& config, const ModelConfig& shared)
    : num_heads(config.num_attention_heads),
      attention_dropout(shared.attention_probs_dropout_prob) {
  const int64_t h = config.hidden_size;
  query = register_module("query", torch::nn::Linear(h, h));
  key = register_module("key", torch::nn::Linear(h, h));
  value = register_module("value", torch::nn::Linear(h, h));
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

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x,
                                        const torch::Tensor& attention_bias) {
  const int64_t batch = x.size(0), length = x.size(1), hidden = x.size(2);
  const int64_t head_size = hidden / num_heads;
  auto heads = [&](const torch::Tensor& t) {  // [B, L, H] -> [B, heads, L, d]
    return t.view({batch, length, num_heads, head_size}).transpose(1, 2);
  };
  const torch::Tensor q = heads(query(x)), k = heads(key(x)), v = heads(value(x));
#if TORCH_VERSION_MAJOR >= 2
  // Flash / memory-efficient kernels on CUDA; the same numbers as the explicit path below.
  torch::Tensor context = at::scaled_dot_product_attention(q, k, v, attention_bias.to(q.dtype()),
                                                           is_training() ? attention_dropout : 0.0);
#else
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(head_size));
  torch::Tensor probabilities = torch::softmax(scores + attention_bias, -1);
  probabilities = torch::dropout(probabilities, attention_dropout, is_training());
  torch::Tensor context = torch::matmul(probabilities, v);
#endif
  context = context.transpose(1, 2).reshape({batch, length, hidden});  // [B, L, H]
  const torch::Tensor attended = attention_norm(dropout(attention_output(context)) + x);
  const torch::Tensor expanded = torch::gelu(intermediate(attended));  // erf GELU
  return output_norm(dropout(output(expanded)) + attended);
}

EncoderImpl::EncoderImpl(const EncoderConfig& config, const ModelConfig& shared) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.num_hidden_layers; ++i)
    layers->push_back(EncoderLayer(config, shared));
}

torch::Tensor EncoderImpl::forward(torch::Tensor x, const torch::Tensor& attention_mask) {
  const torch::Tensor bias = attention_bias_from_mask(attention_mask, x.scalar_type());
  for (const auto& layer : *layers) x = layer->as<EncoderLayer>()->forward(x, bias);
  return x;
}

}  // namespace electra::model
