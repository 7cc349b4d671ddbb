#include "app/train/model_source.h"

#include <filesystem>

#include "app/model/hf_format.h"
#include "app/train/checkpoint_files.h"
#include "data/vocabulary.h"

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
    source.model = read_checkpoint_model(dir, &source.path);
    source.vocab_path = (std::filesystem::path(source.path) / kVocabFile).string();
    source.kind = "checkpoint";
  }
  if (!vocab_override.empty()) source.vocab_path = vocab_override;
  if (!source.vocab_path.empty()) {
    check_vocabulary(source.vocab_path, source.model->config.vocab_size, source.path);
  }
  return source;
}

void check_vocabulary(const std::string& vocab_path, int64_t vocab_size, const std::string& model) {
  const size_t tokens = data::Vocabulary::load(vocab_path).size();
  if (int64_t(tokens) == vocab_size) return;
  throw std::runtime_error(vocab_path + ": " + std::to_string(tokens) + " tokens, but the model " +
                           model + " has vocab_size " + std::to_string(vocab_size) +
                           "; pass the vocab.txt it was trained with (--vocab)");
}

}  // namespace electra::train
