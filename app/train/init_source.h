// `electra pretrain --init-from SOURCE`: a run that starts from a model someone already trained
// (a released HuggingFace ELECTRA, a pair or a discriminator alone; a native checkpoint or a run
// directory, e.g. phase 1 of a two-phase recipe). The run takes SOURCE's weights and model
// configuration and a fresh optimizer, schedule and step 0 — or SOURCE's optimizer moments with
// --init-optimizer (a native checkpoint only). What it started from, with the hashes of the
// weights and the vocabulary, is recorded in train_config.json.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/model/electra_model.h"

namespace electra::train {

class AdamW;

struct InitSource {
  std::string given;                   // SOURCE as the user wrote it
  std::string kind;                    // "huggingface" or "checkpoint"
  std::string weights_dir;             // the HF directory or the resolved checkpoint folder
  model::ElectraModel model{nullptr};  // SOURCE's model, loaded
  bool has_generator = true;           // false: the run's generator starts from random weights
  std::string vocab_path, vocab_sha256;
  // (file, sha256) of the weights read: model.pt, or the HF model.safetensors file(s)
  std::vector<std::pair<std::string, std::string>> weight_files;
  bool has_optimizer = false;  // a native checkpoint with optimizer.pt

  // What train_config.json records under "init_from".
  nlohmann::json record(bool with_optimizer) const;
};

// Reads SOURCE (weights included). `vocab_override`: --vocab when the user gave it (it must be
// SOURCE's vocabulary, byte for byte, when SOURCE has one; required when it has none). Throws
// naming SOURCE and what to do.
InitSource read_init_source(const std::string& source, const std::string& vocab_override);

// The model configuration of a run initialised from SOURCE (named `source_name`, whose model is
// `source_config`): SOURCE's. `explicit_model` (an explicit --model, named `model_name`) and
// `assignments` (--set FIELD=VALUE) may only repeat it, except for dropout (not part of the
// weights) and, when SOURCE has no generator, the size of the fresh generator. Throws
// std::invalid_argument naming the option and the field otherwise.
model::ModelConfig init_model_config(const model::ModelConfig& source_config, bool has_generator,
                                     const std::string& source_name,
                                     const std::optional<model::ModelConfig>& explicit_model,
                                     const std::string& model_name,
                                     const std::vector<std::string>& assignments);

// A run's checkpoint's train_config.json (throws naming it when missing: the checkpoint is
// damaged), and what it says the run started from: its "init_from" (null for a run from scratch).
nlohmann::json recorded_train_config(const std::string& checkpoint_dir);
nlohmann::json recorded_init(const nlohmann::json& train_config);

// Copies SOURCE's weights into `model` (of init_model_config's configuration); the generator's
// stay as they are when SOURCE has none.
void copy_init_weights(const InitSource& source, model::ElectraModelImpl& model);

// --init-optimizer: throws std::invalid_argument unless SOURCE holds an optimizer state.
void require_optimizer_state(const InitSource& source);
// --init-optimizer: SOURCE's moments and step count into `optimizer`.
void load_init_optimizer(const InitSource& source, AdamW& optimizer);

}  // namespace electra::train
