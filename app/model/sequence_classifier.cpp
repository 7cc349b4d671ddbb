#include "app/model/sequence_classifier.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "app/model/dropout.h"
#include "app/model/hf_format.h"
#include "app/model/tensor_io.h"
#include "data/atomic_file.h"

namespace electra::model {

namespace fs = std::filesystem;

namespace {

// Copies every parameter of `to` from the one of the same name in `from`, except those `skip`
// names (left as they are).
void copy_parameters_by_name(torch::nn::Module& to, torch::nn::Module& from,
                             const std::function<bool(const std::string&)>& skip) {
  torch::NoGradGuard no_grad;
  const auto source = from.named_parameters();
  for (auto& item : to.named_parameters()) {
    if (skip(item.key())) continue;
    const at::Tensor* tensor = source.find(item.key());
    if (!tensor) throw std::logic_error("no pretrained parameter " + item.key());
    item.value().copy_(*tensor);
  }
}

}  // namespace

SequenceClassifierImpl::SequenceClassifierImpl(const ModelConfig& config_, int64_t outputs_)
    : config(config_), outputs(outputs_) {
  if (outputs < 1) throw std::invalid_argument("a classifier needs at least one output");
  embeddings = register_module("embeddings", Embeddings(config));
  discriminator = register_module("discriminator", std::make_shared<EncoderStackImpl>(
                                                       config.discriminator, config, embeddings));
  const int64_t h = config.discriminator.hidden_size;
  dropout = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  head_dense = register_module("head_dense", torch::nn::Linear(h, h));
  head_out = register_module("head_out", torch::nn::Linear(h, outputs));
  torch::NoGradGuard no_grad;
  for (auto& linear : {head_dense, head_out}) {
    linear->weight.normal_(0.0, config.initializer_range);
    linear->bias.zero_();
  }
}

torch::Tensor SequenceClassifierImpl::forward(const torch::Tensor& input_ids,
                                              const torch::Tensor& token_type_ids,
                                              const torch::Tensor& attention_mask) {
  const torch::Tensor hidden =
      discriminator->encode(input_ids, token_type_ids, attention_mask).last_hidden;  // [B, L, H]
  const double p = dropout->options.p();
  torch::Tensor x = model::dropout(hidden.select(1, 0), p, is_training());  // [B, H]
  x = model::dropout(torch::gelu(head_dense(x)), p, is_training());
  return head_out(x);  // [B, outputs]
}

void copy_pretrained_encoder(torch::nn::Module& model, const ModelConfig& config,
                             ElectraModelImpl& pair) {
  if (pair.config.to_json() != config.to_json()) {
    throw std::invalid_argument(
        "the pretrained model's configuration differs from the fine-tuned model's");
  }
  copy_parameters_by_name(model, pair, [](const std::string& name) {
    return name.rfind("head_", 0) == 0;  // the task's head stays as created
  });
}

int fine_tuning_depth(const ModelConfig& config, const std::string& name) {
  static const std::string layers = "discriminator.encoder.layers.";
  if (name.rfind("embeddings.", 0) == 0 ||
      name.rfind("discriminator.embeddings_project.", 0) == 0) {
    return 0;
  }
  if (name.rfind(layers, 0) == 0) return std::stoi(name.substr(layers.size())) + 1;
  if (name.rfind("head_", 0) == 0) return int(config.discriminator.num_hidden_layers) + 1;
  throw std::logic_error("no depth for parameter " + name);
}

void check_fresh_top_layers(const ModelConfig& config, int count) {
  const int layers = int(config.discriminator.num_hidden_layers);
  if (count < 0 || count > layers) {
    throw std::invalid_argument("--reinit-layers " + std::to_string(count) +
                                ": the discriminator has " + std::to_string(layers) +
                                " layers; give 0 to " + std::to_string(layers));
  }
}

ElectraModel with_fresh_top_layers(ElectraModelImpl& pair, int count) {
  check_fresh_top_layers(pair.config, count);
  const int layers = int(pair.config.discriminator.num_hidden_layers);
  ElectraModel fresh(pair.config);
  static const std::string stack = "discriminator.encoder.layers.";
  copy_parameters_by_name(*fresh, pair, [&](const std::string& name) {
    return name.rfind(stack, 0) == 0 && std::stoi(name.substr(stack.size())) >= layers - count;
  });
  return fresh;
}

void SequenceClassifierImpl::load_encoder_from(ElectraModelImpl& pair) {
  copy_pretrained_encoder(*this, config, pair);
}

int SequenceClassifierImpl::depth_of(const std::string& name) const {
  return fine_tuning_depth(config, name);
}

void export_hf_with_head(torch::nn::Module& model, const ModelConfig& model_config,
                         const std::vector<std::pair<std::string, std::string>>& head,
                         const nlohmann::json& config_fields, const std::string& vocab_path,
                         const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error(dir + ": cannot create: " + error.message());
  auto parameters = model.named_parameters();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& name : hf_parameter_names(model_config, Network::kDiscriminator)) {
    if (name.ours.rfind("discriminator.head_", 0) == 0) continue;  // the RTD head is not used
    tensors.emplace_back(name.hf, name.of(parameters[name.ours]));
  }
  for (const auto& [hf, ours] : head) tensors.emplace_back(hf, parameters[ours]);
  write_tensors((fs::path(dir) / "model.safetensors").string(), tensors);

  nlohmann::json config = hf_config_json(model_config, Network::kDiscriminator);
  config.update(config_fields);
  data::write_file_atomically((fs::path(dir) / "config.json").string(), config.dump(2) + "\n");
  std::ifstream in(vocab_path, std::ios::binary);
  if (!in) throw std::runtime_error(vocab_path + ": cannot read the vocabulary to export");
  data::write_file_atomically((fs::path(dir) / "vocab.txt").string(),
                              std::string(std::istreambuf_iterator<char>(in), {}));
}

void import_hf_with_head(torch::nn::Module& model, const ModelConfig& model_config,
                         const std::vector<std::pair<std::string, std::string>>& head,
                         const std::string& safetensors_path) {
  const SafetensorsFile file = SafetensorsFile::read(safetensors_path);
  auto parameters = model.named_parameters();
  std::vector<std::tuple<std::string, std::string, int>> wanted;  // hf, ours, part
  for (const auto& name : hf_parameter_names(model_config, Network::kDiscriminator)) {
    if (name.ours.rfind("discriminator.head_", 0) == 0) continue;
    wanted.emplace_back(name.hf, name.ours, name.part);
  }
  for (const auto& [hf, ours] : head) wanted.emplace_back(hf, ours, -1);
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (const auto& [hf, ours, part] : wanted) {
    const TensorEntry* entry = file.find(hf);
    if (!entry) throw std::runtime_error(safetensors_path + ": tensor '" + hf + "' is missing");
    at::Tensor target = parameters[ours];
    if (part >= 0) target = target.chunk(3, 0)[size_t(part)];
    const at::Tensor source = to_tensor(file, *entry);
    if (source.sizes() != target.sizes()) {
      std::ostringstream message;
      message << safetensors_path << ": tensor '" << hf << "' has shape " << source.sizes()
              << ", the config needs " << target.sizes();
      throw std::runtime_error(message.str());
    }
    target.copy_(source);
    used.insert(hf);
  }
  for (const auto& entry : file.tensors()) {
    if (used.count(entry.name) || entry.name.find("position_ids") != std::string::npos) continue;
    throw std::runtime_error(safetensors_path + ": unexpected tensor '" + entry.name +
                             "' (not a parameter of this fine-tuned ELECTRA)");
  }
}

std::vector<std::pair<std::string, std::string>> hf_classifier_head() {
  return {{"classifier.dense.weight", "head_dense.weight"},
          {"classifier.dense.bias", "head_dense.bias"},
          {"classifier.out_proj.weight", "head_out.weight"},
          {"classifier.out_proj.bias", "head_out.bias"}};
}

nlohmann::json hf_label_fields(const std::vector<std::string>& labels) {
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (size_t i = 0; i < labels.size(); ++i) {
    id2label[std::to_string(i)] = labels[i], label2id[labels[i]] = i;
  }
  return {{"num_labels", labels.size()}, {"id2label", id2label}, {"label2id", label2id}};
}

void export_hf_classifier(SequenceClassifierImpl& model, const std::vector<std::string>& labels,
                          bool regression, const std::string& vocab_path, const std::string& dir) {
  nlohmann::json fields =
      hf_label_fields(regression ? std::vector<std::string>{"LABEL_0"} : labels);
  fields["architectures"] = {"ElectraForSequenceClassification"};
  fields["problem_type"] = regression ? "regression" : "single_label_classification";
  export_hf_with_head(model, model.config, hf_classifier_head(), fields, vocab_path, dir);
}

}  // namespace electra::model
