// The model a command works on, from whatever the user points at: a HuggingFace ELECTRA
// directory, a native checkpoint, or a run directory (its latest complete checkpoint).
#pragma once

#include <string>

#include "app/model/electra_model.h"

namespace electra::train {

struct ModelSource {
  model::ElectraModel model{nullptr};
  std::string vocab_path;  // "" when none was found and none given
  std::string kind;        // "huggingface" or "checkpoint"
  std::string path;        // the directory the weights came from
  bool has_generator = true;
};

// `vocab_override` (non-empty) replaces the directory's vocab.txt; the vocabulary found is
// checked against the model (check_vocabulary).
ModelSource load_model_source(const std::string& dir, const std::string& vocab_override);

// The one check of a model's vocabulary, wherever a model is loaded: VOCAB_PATH must hold
// VOCAB_SIZE tokens (a truncated or another model's vocab.txt is refused, naming both and
// --vocab). MODEL names the model in the message.
void check_vocabulary(const std::string& vocab_path, int64_t vocab_size, const std::string& model);

}  // namespace electra::train
