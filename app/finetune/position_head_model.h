// The discriminator fine-tuned with a head on every position, for the paper's per-token task
// families: extractive question answering (HuggingFace's ElectraForQuestionAnswering: one linear
// layer `qa_outputs` to a start and an end logit per position) and token tagging
// (ElectraForTokenClassification: dropout, then a linear `classifier` to one logit per label).
// The encoder is SequenceClassifier's (same parameter names, so pretrained weights copy by name
// and layer-wise decay reads the same depths); the head is "head_out".
#pragma once

#include "app/model/electra_model.h"

namespace electra::finetune {

enum class PositionTask { kSpan, kToken };

struct PositionHeadModelImpl : torch::nn::Module {
  // `labels`: the tag count for kToken (kSpan has 2 outputs: start and end). Randomly
  // initialised as the pair is (normal(0, initializer_range), zero biases).
  PositionHeadModelImpl(const model::ModelConfig& config, PositionTask task, int64_t labels = 2);
  // [B, L, outputs] logits.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        const torch::Tensor& attention_mask);
  // Copies the embeddings and the discriminator's encoder of `pair` (the same configuration).
  void load_encoder_from(model::ElectraModelImpl& pair);
  // 0 for the embeddings, i + 1 for encoder layer i, num_hidden_layers + 1 for the head.
  int depth_of(const std::string& parameter_name) const;

  model::ModelConfig config;
  PositionTask task;
  int64_t outputs;
  model::Embeddings embeddings{nullptr};
  std::shared_ptr<model::EncoderStackImpl> discriminator;
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear head_out{nullptr};
};
TORCH_MODULE(PositionHeadModel);

// Writes DIR for transformers' from_pretrained: ElectraForQuestionAnswering (kSpan: the head as
// `qa_outputs`, num_labels 2) or ElectraForTokenClassification (kToken: `classifier`, id2label
// from `labels`), with config.json, model.safetensors and vocab.txt.
// The head's tensors under HF's names: qa_outputs.* (kSpan) or classifier.* (kToken).
std::vector<std::pair<std::string, std::string>> hf_position_head(PositionTask task);
void export_hf_position_model(PositionHeadModelImpl& model, const std::vector<std::string>& labels,
                              const std::string& vocab_path, const std::string& dir);

}  // namespace electra::finetune
