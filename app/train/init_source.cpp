#include "app/train/init_source.h"

#include <torch/serialize/input-archive.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "app/model/hf_format.h"
#include "app/train/checkpoint_files.h"
#include "app/train/model_source.h"
#include "app/train/optimizer.h"
#include "app/train/training_checkpoint.h"
#include "data/debug_detail.h"
#include "data/json_fields.h"
#include "data/sha256.h"
#include "data/vocabulary.h"

namespace electra::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A config.json that is not ELECTRA's (a BERT, a RoBERTa): named before anything else is tried.
void refuse_other_hf_models(const std::string& source) {
  for (const fs::path config :
       {fs::path(source) / "discriminator" / "config.json", fs::path(source) / "config.json"}) {
    std::ifstream in(config);
    if (!in) continue;
    json parsed;
    try {
      parsed = json::parse(in);
    } catch (const json::exception&) {
      return;  // import_hf names the damaged file
    }
    const std::string type = parsed.is_object() ? parsed.value("model_type", "") : "";
    if (type != "electra") {
      throw std::runtime_error("--init-from " + source + ": " + config.string() +
                               " is a HuggingFace model of type \"" + type +
                               "\", not ELECTRA; pass an ELECTRA pair (discriminator/ and "
                               "generator/), an ELECTRA discriminator, or a checkpoint");
    }
    return;
  }
}

// Dropout is not part of the weights; initializer_range only shapes fresh weights.
bool free_field(const std::string& field) {
  return field == "hidden_dropout_prob" || field == "attention_probs_dropout_prob" ||
         field == "initializer_range";
}

// "/generator/hidden_size" -> "generator.hidden_size"
std::string field_name(const std::string& pointer) {
  std::string name = pointer.substr(pointer.empty() ? 0 : 1);
  for (char& c : name) c = c == '/' ? '.' : c;
  return name;
}

// The first field (dotted) where `a` and `b` differ, other than those `skip` accepts; "" if none.
template <class Skip>
std::string first_difference(const model::ModelConfig& a, const model::ModelConfig& b, Skip skip) {
  for (const auto& patch : json::diff(a.to_json(), b.to_json())) {
    const std::string field = field_name(patch.at("path").get<std::string>());
    if (!skip(field)) return field;
  }
  return "";
}

std::string value_text(const model::ModelConfig& config, const std::string& field) {
  json value = config.to_json();
  size_t start = 0;
  while (value.is_object()) {
    const size_t dot = field.find('.', start);
    const std::string key = field.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!value.contains(key)) return "(none)";
    value = value[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return value.dump();
}

}  // namespace

json InitSource::record(bool with_optimizer) const {
  json weights = json::object();
  for (const auto& [file, sha] : weight_files) weights[file] = sha;
  return {{"source", given},
          {"kind", kind},
          {"weights_dir", weights_dir},
          {"weights_sha256", weights},
          {"vocab", vocab_path},
          {"vocab_sha256", vocab_sha256},
          {"generator", has_generator ? "from the source" : "fresh (random weights)"},
          {"optimizer", with_optimizer ? "from the source" : "fresh"}};
}

InitSource read_init_source(const std::string& source, const std::string& vocab_override) {
  if (!fs::exists(source)) {
    throw std::runtime_error("--init-from " + source +
                             ": no such HuggingFace directory, checkpoint or run directory");
  }
  if (!fs::is_directory(source)) {
    throw std::runtime_error("--init-from " + source +
                             ": a file; pass the folder (an HF model directory, a checkpoint "
                             "folder or a run directory)");
  }
  refuse_other_hf_models(source);
  InitSource init;
  init.given = source;
  if (model::is_hf_directory(source)) {
    model::HfImport imported = model::import_hf(source);
    init.kind = "huggingface";
    init.weights_dir = source;
    init.model = imported.model;
    init.has_generator = imported.has_generator;
    init.vocab_path = imported.vocab_path;
    const fs::path root(source);
    const fs::path d = fs::exists(root / "discriminator") ? root / "discriminator" : root;
    for (const fs::path file :
         {d / "model.safetensors", root / "generator" / "model.safetensors"}) {
      if (fs::exists(file)) init.weight_files.emplace_back(file.string(), data::sha256_file(file));
    }
  } else {
    std::string dir;
    try {
      dir = resolve_checkpoint(source);
    } catch (const std::exception& e) {
      throw std::runtime_error("--init-from " + std::string(e.what()) +
                               "; pass an HF ELECTRA directory, a checkpoint or a run directory");
    }
    init.kind = "checkpoint";
    init.weights_dir = dir;
    init.model = read_model(dir);
    init.vocab_path = (fs::path(dir) / kVocabFile).string();
    const std::string marker_path = (fs::path(dir) / kCompleteMarker).string();
    const json marker = data::read_json_file(marker_path, "missing");
    // electra import-hf of a discriminator alone marks its (random) generator.
    init.has_generator = marker.value("has_trained_generator", true);
    init.has_optimizer = fs::exists(fs::path(dir) / kOptimizerFile);
    const std::string weights = (fs::path(dir) / kModelFile).string();
    init.weight_files.emplace_back(weights, data::sha256_file(weights));
  }
  if (!vocab_override.empty()) {
    if (!init.vocab_path.empty()) {
      const auto theirs = data::Vocabulary::load(init.vocab_path).sha256();
      const auto given = data::Vocabulary::load(vocab_override);
      if (given.sha256() != theirs) {
        throw std::invalid_argument("--vocab " + vocab_override + ": not the vocabulary of " +
                                    "--init-from " + source + " (" + init.vocab_path +
                                    "); leave --vocab out, the source's is used");
      }
    }
    init.vocab_path = vocab_override;
  }
  if (init.vocab_path.empty()) {
    throw std::invalid_argument("--init-from " + source +
                                ": the directory has no vocab.txt; pass the vocabulary the model "
                                "was trained with as --vocab");
  }
  const data::Vocabulary vocab = data::Vocabulary::load(init.vocab_path);
  init.vocab_sha256 = vocab.sha256();
  check_vocabulary(init.vocab_path, init.model->config.vocab_size, "--init-from " + source);
  return init;
}

model::ModelConfig init_model_config(const model::ModelConfig& source_config, bool has_generator,
                                     const std::string& source_name,
                                     const std::optional<model::ModelConfig>& explicit_model,
                                     const std::string& model_name,
                                     const std::vector<std::string>& assignments) {
  model::ModelConfig result = source_config;
  // A fresh generator takes the configured size (--model's, then --set generator.*).
  const auto may_change = [&](const std::string& field) {
    return free_field(field) || (!has_generator && field.rfind("generator", 0) == 0);
  };
  if (explicit_model) {
    const std::string field = first_difference(source_config, *explicit_model, may_change);
    if (!field.empty()) {
      throw std::invalid_argument("--model " + model_name + ": " + field + " is " +
                                  value_text(*explicit_model, field) + ", but " + source_name +
                                  " has " + value_text(source_config, field) +
                                  " (the model comes from it); leave --model out");
    }
    if (!has_generator) result.generator = explicit_model->generator;
    result.hidden_dropout_prob = explicit_model->hidden_dropout_prob;
    result.attention_probs_dropout_prob = explicit_model->attention_probs_dropout_prob;
    result.initializer_range = explicit_model->initializer_range;
  }
  for (const auto& assignment : assignments) {
    model::ModelConfig changed = result;
    changed.set(assignment);
    const std::string field = first_difference(result, changed, may_change);
    if (!field.empty()) {
      throw std::invalid_argument(
          "--set " + assignment + ": " + source_name + " has " + field + " = " +
          value_text(result, field) +
          " and its weights need it (the model comes from it); only dropout" +
          std::string(has_generator ? "" : " and the fresh generator's size") + " may be set");
    }
    result = changed;
  }
  result.validate(source_name);
  return result;
}

json recorded_train_config(const std::string& checkpoint_dir) {
  const std::string path = (fs::path(checkpoint_dir) / kTrainConfigFile).string();
  return data::read_json_file(path, "missing; the checkpoint is damaged");
}

json recorded_init(const json& train_config) {
  return train_config.is_object() ? train_config.value("init_from", json(nullptr)) : json(nullptr);
}

void copy_init_weights(const InitSource& source, model::ElectraModelImpl& model) {
  torch::NoGradGuard no_grad;
  const auto theirs = source.model->named_parameters();
  for (auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& parameter = item.value();
    if (!source.has_generator && name.rfind("generator.", 0) == 0) continue;
    const at::Tensor* value = theirs.find(name);
    if (!value || value->sizes() != parameter.sizes()) {
      throw std::runtime_error("--init-from " + source.given + ": " + name +
                               (value ? " has another shape" : " is missing") +
                               " in the source's weights");
    }
    parameter.copy_(*value);
  }
}

void require_optimizer_state(const InitSource& source) {
  if (source.kind != "checkpoint") {
    throw std::invalid_argument("--init-optimizer: --init-from " + source.given +
                                " is a HuggingFace directory, which holds no optimizer state; "
                                "leave --init-optimizer out");
  }
  const std::string path = (fs::path(source.weights_dir) / kOptimizerFile).string();
  if (!source.has_optimizer) {
    throw std::invalid_argument("--init-optimizer: " + path +
                                " is missing (an imported model holds no optimizer state); "
                                "leave --init-optimizer out");
  }
}

void load_init_optimizer(const InitSource& source, AdamW& optimizer) {
  require_optimizer_state(source);
  load_optimizer_file(source.weights_dir, optimizer,
                      "start without --init-optimizer, or from another checkpoint");
}

}  // namespace electra::train
