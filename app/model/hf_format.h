// HuggingFace ELECTRA directories (config.json + model.safetensors + vocab.txt): import a
// discriminator alone or a discriminator + generator pair, and export a pair that
// transformers' from_pretrained loads. Parameter names map both ways (DESIGN.md section 4).
#pragma once

#include <string>
#include <vector>

#include "app/model/electra_model.h"

namespace electra::model {

enum class Network { kDiscriminator, kGenerator };

// (our parameter name, HuggingFace name) for every tensor of one network, the shared embeddings
// included; the generator's tied output weight is not listed (it is the word embeddings). HF's
// query, key and value are the three parts (rows) of our fused attention projection.
struct ParameterName {
  std::string ours, hf;
  int part = -1;  // 0, 1, 2: that third (by rows) of `ours`; -1: all of it
  // The part of our tensor (a parameter or its gradient) that HF's tensor is: a view.
  at::Tensor of(const at::Tensor& ours_tensor) const {
    return part < 0 ? ours_tensor : ours_tensor.chunk(3, 0)[size_t(part)];
  }
};
std::vector<ParameterName> hf_parameter_names(const ModelConfig& config, Network network);

// The HF config.json of one network.
nlohmann::json hf_config_json(const ModelConfig& config, Network network);

struct HfImport {
  ElectraModel model{nullptr};
  bool has_generator = false;  // false: the generator was initialised fresh
  std::string vocab_path;      // "" when the directory has no vocab.txt
};

// DIR holds discriminator/ (and optionally generator/), or is itself one discriminator
// directory. Missing, unexpected or mis-shaped tensors and inconsistent configs are refused by
// name.
HfImport import_hf(const std::string& dir);

// The model configuration of an HF discriminator's config.json (a fine-tuned one too; the
// generator part is the paper's quarter-width default, unused by fine-tuned models).
ModelConfig hf_discriminator_config(const std::string& config_path);

// Writes OUT/discriminator/ and OUT/generator/ (config.json, model.safetensors, vocab.txt).
void export_hf(ElectraModelImpl& model, const std::string& vocab_path, const std::string& out_dir);

// True when DIR looks like an HF ELECTRA directory (config.json of model_type electra, or
// discriminator/config.json).
bool is_hf_directory(const std::string& dir);

}  // namespace electra::model
