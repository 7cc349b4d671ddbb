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

// `vocab_override` (non-empty) replaces the directory's vocab.txt.
ModelSource load_model_source(const std::string& dir, const std::string& vocab_override);

}  // namespace electra::train
