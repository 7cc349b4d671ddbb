// The discriminator fine-tuned on a task (DESIGN.md section 3): the shared embeddings and the
// discriminator's encoder, then a head on the [CLS] position as HuggingFace's
// ElectraClassificationHead: dropout -> dense (H -> H) -> GELU -> dropout -> dense (H -> outputs).
// Parameter names match the pair's ("embeddings.*", "discriminator.*"), so pretrained weights
// copy by name; the head is "head_dense" and "head_out".
#pragma once

#include <string>
#include <vector>

#include "app/model/electra_model.h"

namespace electra::model {

struct SequenceClassifierImpl : torch::nn::Module {
  // Randomly initialised as the pair is (normal(0, initializer_range), zero biases).
  SequenceClassifierImpl(const ModelConfig& config, int64_t outputs);
  // [B, outputs] logits (classification) or values (regression, outputs = 1).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        const torch::Tensor& attention_mask);
  // Copies the embeddings and the discriminator's encoder of `pair` (the same configuration).
  void load_encoder_from(ElectraModelImpl& pair);
  // The encoder layer a parameter belongs to: 0 for the embeddings (and their projection),
  // i + 1 for encoder layer i, num_hidden_layers + 1 for the head.
  int depth_of(const std::string& parameter_name) const;

  ModelConfig config;
  int64_t outputs;
  Embeddings embeddings{nullptr};
  std::shared_ptr<EncoderStackImpl> discriminator;
  torch::nn::Dropout dropout{nullptr};  // its probability; applied by model::dropout (dropout.h)
  torch::nn::Linear head_dense{nullptr}, head_out{nullptr};
};
TORCH_MODULE(SequenceClassifier);

// What every fine-tuned model (a discriminator with a "head_*" on top) shares: copying the
// embeddings and the discriminator's encoder from `pair` (the same configuration; the head is
// left as it is), and a parameter's depth for layer-wise decay (0 for the embeddings and their
// projection, i + 1 for encoder layer i, num_hidden_layers + 1 for the head).
void copy_pretrained_encoder(torch::nn::Module& model, const ModelConfig& config,
                             ElectraModelImpl& pair);
int fine_tuning_depth(const ModelConfig& config, const std::string& parameter_name);
// A copy of `pair` whose discriminator's top `count` encoder layers are drawn afresh as
// pretraining starts them (normal(0, initializer_range), from LibTorch's generator) and all else
// is the pair's: fine-tuning's --reinit-layers (a briefly pretrained network's top layers are
// specialised to its pretraining task). Throws std::invalid_argument naming the option when
// `count` is not within 0 and the discriminator's layers.
ElectraModel with_fresh_top_layers(ElectraModelImpl& pair, int count);
// The same check alone, before any work is done.
void check_fresh_top_layers(const ModelConfig& config, int count);

// Writes DIR/config.json (the discriminator's HF config updated with `config_fields`),
// model.safetensors (the embeddings and encoder under HF's names, then `head`: (HF name, our
// parameter name) pairs) and vocab.txt: a fine-tuned model for transformers' from_pretrained.
void export_hf_with_head(torch::nn::Module& model, const ModelConfig& model_config,
                         const std::vector<std::pair<std::string, std::string>>& head,
                         const nlohmann::json& config_fields, const std::string& vocab_path,
                         const std::string& dir);
// The reverse: `model`'s embeddings, encoder and `head` from an HF model.safetensors; a missing,
// unexpected or mis-shaped tensor is refused by name.
void import_hf_with_head(torch::nn::Module& model, const ModelConfig& model_config,
                         const std::vector<std::pair<std::string, std::string>>& head,
                         const std::string& safetensors_path);
// The head of ElectraForSequenceClassification: (HF name, our name) pairs.
std::vector<std::pair<std::string, std::string>> hf_classifier_head();
// num_labels, id2label and label2id of HF's config for `labels` (index i is labels[i]).
nlohmann::json hf_label_fields(const std::vector<std::string>& labels);

// Writes DIR/config.json, model.safetensors and vocab.txt for transformers'
// ElectraForSequenceClassification.from_pretrained (id2label from `labels`; regression: one
// output and problem_type "regression").
void export_hf_classifier(SequenceClassifierImpl& model, const std::vector<std::string>& labels,
                          bool regression, const std::string& vocab_path, const std::string& dir);

}  // namespace electra::model
