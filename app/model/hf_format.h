// HuggingFace ELECTRA directories (config.json + model.safetensors + vocab.txt): import a
// discriminator alone or a discriminator + generator pair, and export a pair that
// transformers' from_pretrained loads. Parameter names map both ways (DESIGN.md section 4).
#pragma once

#include <string>
#include <vector>

#include "app/model/electra_model.h"

namespace electra::model {

enum class Network { kDiscriminator, kGenerator };

// (our parameter name, HuggingFace name) for every parameter of one network, the shared
// embeddings included; the generator's tied output weight is not listed (it is the word
// embeddings).
struct ParameterName {
  std::string ours, hf;
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

// Writes OUT/discriminator/ and OUT/generator/ (config.json, model.safetensors, vocab.txt).
void export_hf(ElectraModelImpl& model, const std::string& vocab_path, const std::string& out_dir);

// True when DIR looks like an HF ELECTRA directory (config.json of model_type electra, or
// discriminator/config.json).
bool is_hf_directory(const std::string& dir);

}  // namespace electra::model
