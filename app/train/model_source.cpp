#include "app/train/model_source.h"

#include <filesystem>

#include "app/model/hf_format.h"
#include "app/train/checkpoint_files.h"

namespace electra::train {

ModelSource load_model_source(const std::string& dir, const std::string& vocab_override) {
  ModelSource source;
  if (model::is_hf_directory(dir)) {
    auto imported = model::import_hf(dir);
    source.model = imported.model;
    source.vocab_path = imported.vocab_path;
    source.kind = "huggingface";
    source.path = dir;
    source.has_generator = imported.has_generator;
  } else {
    source.path = resolve_checkpoint(dir);
    source.model = read_model(source.path);
    source.vocab_path = (std::filesystem::path(source.path) / kVocabFile).string();
    source.kind = "checkpoint";
  }
  if (!vocab_override.empty()) source.vocab_path = vocab_override;
  return source;
}

}  // namespace electra::train
