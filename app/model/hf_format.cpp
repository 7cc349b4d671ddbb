#include "app/model/hf_format.h"

#include <torch/csrc/autograd/generated/variable_factories.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>

#include "app/model/loaded_weights.h"
#include "app/model/tensor_io.h"
#include "data/atomic_file.h"
#include "data/json_fields.h"
#include "data/output_record.h"

namespace electra::model {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Our encoder-layer module names and HF's.
const std::vector<std::pair<std::string, std::string>> kLayerNames = {
    {"attention_output", "attention.output.dense"},
    {"attention_norm", "attention.output.LayerNorm"},
    {"intermediate", "intermediate.dense"},
    {"output", "output.dense"},
    {"output_norm", "output.LayerNorm"}};

const EncoderConfig& encoder_of(const ModelConfig& config, Network network) {
  return network == Network::kDiscriminator ? config.discriminator : config.generator;
}

json read_json(const std::string& path) {
  return data::read_json_file(path, "missing (an HF model directory has config.json)");
}

EncoderConfig encoder_from_hf(const json& c, const std::string& path) {
  return {data::json_field<int64_t>(c, "hidden_size", path),
          data::json_field<int64_t>(c, "num_hidden_layers", path),
          data::json_field<int64_t>(c, "num_attention_heads", path),
          data::json_field<int64_t>(c, "intermediate_size", path)};
}

void check_supported(const json& c, const std::string& path) {
  if (!c.is_object()) throw std::runtime_error(path + ": not a JSON object (an HF config)");
  const json type = c.value("model_type", json("(none)"));
  if (type != "electra") {
    throw std::runtime_error(path + ": model_type " + type.dump() +
                             ", not \"electra\": electra reads ELECTRA models only");
  }
  const std::string act = c.value("hidden_act", "gelu");
  if (act != "gelu") {
    throw std::runtime_error(path + ": hidden_act \"" + act +
                             "\" is not supported (only \"gelu\")");
  }
  const std::string position = c.value("position_embedding_type", "absolute");
  if (position != "absolute") {
    throw std::runtime_error(path + ": position_embedding_type \"" + position +
                             "\" is not supported");
  }
}

ModelConfig config_from_hf(const json& d, const std::string& d_path, const json* g,
                           const std::string& g_path) {
  check_supported(d, d_path);
  const json architectures = d.value("architectures", json::array());
  if (architectures.is_array() && architectures.size() == 1 &&
      architectures[0] == "ElectraForMaskedLM") {
    throw std::runtime_error(d_path +
                             ": an ELECTRA generator (ElectraForMaskedLM) where the "
                             "discriminator is wanted; pass the discriminator's folder, or the "
                             "folder holding discriminator/ and generator/");
  }
  ModelConfig config;
  config.vocab_size = data::json_field<int64_t>(d, "vocab_size", d_path);
  config.embedding_size = data::json_field<int64_t>(d, "embedding_size", d_path);
  config.max_position_embeddings = data::json_field<int64_t>(d, "max_position_embeddings", d_path);
  config.type_vocab_size = data::json_field<int64_t>(d, "type_vocab_size", d_path);
  config.pad_token_id =
      d.value("pad_token_id", json(0)).is_number() ? d.value("pad_token_id", 0) : 0;
  config.layer_norm_eps = data::json_field<double>(d, "layer_norm_eps", d_path);
  config.hidden_dropout_prob = data::json_field<double>(d, "hidden_dropout_prob", d_path);
  config.attention_probs_dropout_prob =
      data::json_field<double>(d, "attention_probs_dropout_prob", d_path);
  config.initializer_range = d.value("initializer_range", 0.02);
  config.discriminator = encoder_from_hf(d, d_path);
  if (d.contains("local_head_slope")) {  // ours (model_config.h); absent from HF's own files
    config.local_head_slope = data::json_field<double>(d, "local_head_slope", d_path);
  }
  if (d.contains("local_head_centre")) {
    config.local_head_centre = data::json_field<int64_t>(d, "local_head_centre", d_path);
  }
  if (g) {
    for (const char* local : {"local_head_slope", "local_head_centre"}) {
      if (g->value(local, json(0)) != d.value(local, json(0))) {
        throw std::runtime_error(g_path + ": " + local + " differs from the discriminator's " +
                                 d_path + " (one setting for the pair)");
      }
    }
    check_supported(*g, g_path);
    for (const char* shared :
         {"vocab_size", "embedding_size", "max_position_embeddings", "type_vocab_size"}) {
      if (g->value(shared, json()) != d.value(shared, json())) {
        throw std::runtime_error(g_path + ": " + shared + " " + g->value(shared, json()).dump() +
                                 " differs from the discriminator's " +
                                 d.value(shared, json()).dump() +
                                 " (the pair shares its embeddings)");
      }
    }
    config.generator = encoder_from_hf(*g, g_path);
  } else {  // a discriminator alone: a generator of a quarter of its width, as the paper's
    const int64_t hidden = std::max<int64_t>(64, config.discriminator.hidden_size / 4);
    config.generator = {hidden, config.discriminator.num_hidden_layers,
                        std::max<int64_t>(1, hidden / 64), 4 * hidden};
  }
  config.validate(d_path);
  return config;
}

bool is_shared_embedding(const std::string& hf_name) {
  return hf_name.rfind("electra.embeddings.", 0) == 0;
}

// Whether the generator's file holds the discriminator's embeddings (or none): the paper's tying.
// An exported two-stage model's generator has embeddings of its own.
bool same_embeddings(const SafetensorsFile& discriminator, const SafetensorsFile& generator) {
  for (const auto& entry : generator.tensors()) {
    if (!is_shared_embedding(entry.name)) continue;
    const TensorEntry* other = discriminator.find(entry.name);
    if (!other || other->dtype != entry.dtype || other->shape != entry.shape ||
        discriminator.data(*other) != generator.data(entry)) {
      return false;
    }
  }
  return true;
}

// Copies the file's tensors into the network's parameters; every parameter must be present with
// its shape, and every tensor in the file must be known. When the pair shares its embeddings the
// generator's file repeats them: they are loaded from the discriminator's, so there they are
// optional and skipped.
void load_network(ElectraModelImpl& model, Network network, const SafetensorsFile& file) {
  const std::string& path = file.source();
  auto parameters = model.named_parameters();
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (const auto& name : hf_parameter_names(model.config, network)) {
    const std::string& hf = name.hf;
    if (network == Network::kGenerator && model.config.share_embeddings &&
        is_shared_embedding(hf)) {
      used.insert(hf);
      continue;
    }
    const TensorEntry* entry = file.find(hf);
    if (!entry) throw std::runtime_error(path + ": tensor '" + hf + "' is missing");
    torch::Tensor target = name.of(parameters[name.ours]);
    const at::Tensor source = to_tensor(file, *entry);
    if (source.sizes() != target.sizes()) {
      std::ostringstream message;
      message << path << ": tensor '" << hf << "' has shape " << source.sizes()
              << ", the config needs " << target.sizes()
              << " (does config.json belong to this model.safetensors?)";
      throw std::runtime_error(message.str());
    }
    target.copy_(source);
    used.insert(hf);
  }
  for (const auto& entry : file.tensors()) {
    if (used.count(entry.name)) continue;
    if (entry.name == "generator_lm_head.weight" && network == Network::kGenerator) {
      const at::Tensor tied = to_tensor(file, entry).to(torch::kFloat);
      if (!tied.equal(model.generator->embeddings->word_embeddings->weight.to(torch::kFloat))) {
        throw std::runtime_error(path +
                                 ": generator_lm_head.weight differs from the word embeddings; "
                                 "ELECTRA ties them");
      }
      continue;
    }
    if (entry.name.find("position_ids") != std::string::npos) continue;  // a buffer, not a weight
    throw std::runtime_error(
        path + ": unexpected tensor '" + entry.name + "' (not a parameter of an ELECTRA " +
        (network == Network::kDiscriminator ? "discriminator" : "generator") + ")");
  }
}

}  // namespace

std::vector<ParameterName> hf_parameter_names(const ModelConfig& config, Network network) {
  std::vector<ParameterName> names;
  auto both = [&](const std::string& ours, const std::string& hf) {
    names.push_back({ours + ".weight", hf + ".weight"});
    names.push_back({ours + ".bias", hf + ".bias"});
  };
  // The generator's file holds the embeddings it uses: the shared ones, or its own.
  const std::string embeddings = network == Network::kGenerator && !config.share_embeddings
                                     ? "generator_embeddings"
                                     : "embeddings";
  for (const char* table : {"word_embeddings", "position_embeddings", "token_type_embeddings"}) {
    names.push_back({embeddings + "." + table + ".weight",
                     std::string("electra.embeddings.") + table + ".weight"});
  }
  both(embeddings + ".layer_norm", "electra.embeddings.LayerNorm");
  const std::string net = network == Network::kDiscriminator ? "discriminator" : "generator";
  const EncoderConfig& encoder = encoder_of(config, network);
  if (config.embedding_size != encoder.hidden_size) {
    both(net + ".embeddings_project", "electra.embeddings_project");
  }
  for (int64_t i = 0; i < encoder.num_hidden_layers; ++i) {
    const std::string layer = net + ".encoder.layers." + std::to_string(i) + ".";
    const std::string hf_layer = "electra.encoder.layer." + std::to_string(i) + ".";
    int part = 0;
    for (const char* projection : {"query", "key", "value"}) {
      for (const char* tensor : {".weight", ".bias"}) {
        names.push_back({layer + kFusedAttentionProjection + tensor,
                         hf_layer + "attention.self." + projection + tensor, part});
      }
      ++part;
    }
    for (const auto& [ours, hf] : kLayerNames) both(layer + ours, hf_layer + hf);
  }
  if (network == Network::kDiscriminator) {
    both("discriminator.head_dense", "discriminator_predictions.dense");
    both("discriminator.head_prediction", "discriminator_predictions.dense_prediction");
  } else {
    both("generator.head_dense", "generator_predictions.dense");
    both("generator.head_norm", "generator_predictions.LayerNorm");
    names.push_back({"generator.output_bias", "generator_lm_head.bias"});
  }
  return names;
}

json hf_config_json(const ModelConfig& config, Network network) {
  const EncoderConfig& encoder = encoder_of(config, network);
  json fields = {
      {"architectures",
       {network == Network::kDiscriminator ? "ElectraForPreTraining" : "ElectraForMaskedLM"}},
      {"model_type", "electra"},
      {"vocab_size", config.vocab_size},
      {"embedding_size", config.embedding_size},
      {"hidden_size", encoder.hidden_size},
      {"num_hidden_layers", encoder.num_hidden_layers},
      {"num_attention_heads", encoder.num_attention_heads},
      {"intermediate_size", encoder.intermediate_size},
      {"hidden_act", "gelu"},
      {"hidden_dropout_prob", config.hidden_dropout_prob},
      {"attention_probs_dropout_prob", config.attention_probs_dropout_prob},
      {"max_position_embeddings", config.max_position_embeddings},
      {"type_vocab_size", config.type_vocab_size},
      {"initializer_range", config.initializer_range},
      {"layer_norm_eps", config.layer_norm_eps},
      {"pad_token_id", config.pad_token_id},
      {"position_embedding_type", "absolute"},
      {"summary_type", "first"},
      {"summary_use_proj", true},
      {"summary_activation", "gelu"},
      {"summary_last_dropout", 0.1},
      {"tie_word_embeddings", true},
      {"dtype", "float32"}};
  // Ours alone (model_config.h): HuggingFace keeps the fields and ignores them; electra reads
  // them. Both whenever either is set, so that a config reads back as it was written.
  if (config.local_head_slope > 0 || config.local_head_centre != 0) {
    fields["local_head_slope"] = config.local_head_slope;
    fields["local_head_centre"] = config.local_head_centre;
  }
  return fields;
}

bool is_hf_directory(const std::string& dir) {
  const fs::path root(dir);
  for (const auto& config : {root / "discriminator" / "config.json", root / "config.json"}) {
    std::ifstream in(config);
    if (!in) continue;
    try {
      // Any HF model (model_type set), so that one of another architecture is named as such.
      const json parsed = json::parse(in);
      return parsed.is_object() && (parsed.contains("model_type") ||
                                    fs::exists(config.parent_path() / "model.safetensors"));
    } catch (const json::exception&) {
      // A damaged config.json beside HF weights is still an HF folder: reading it then names
      // the file that is broken instead of "not a checkpoint".
      return fs::exists(config.parent_path() / "model.safetensors");
    }
  }
  return false;
}

HfImport import_hf(const std::string& dir) {
  // A killed export has discriminator/ and no generator/: not a discriminator-only model.
  data::refuse_unfinished_output(dir);
  const fs::path root(dir);
  const fs::path discriminator_dir =
      fs::exists(root / "discriminator") ? root / "discriminator" : root;
  const fs::path generator_dir = root / "generator";
  const bool has_generator = fs::exists(generator_dir / "config.json");
  const std::string d_path = (discriminator_dir / "config.json").string();
  const std::string g_path = (generator_dir / "config.json").string();
  const json d = read_json(d_path);
  const json g = has_generator ? read_json(g_path) : json();
  ModelConfig config = config_from_hf(d, d_path, has_generator ? &g : nullptr, g_path);
  const SafetensorsFile d_file =
      SafetensorsFile::read((discriminator_dir / "model.safetensors").string());
  std::optional<SafetensorsFile> g_file;
  if (has_generator) g_file = SafetensorsFile::read((generator_dir / "model.safetensors").string());
  if (g_file) config.share_embeddings = same_embeddings(d_file, *g_file);
  HfImport result;
  result.model = ElectraModel(config);
  result.has_generator = has_generator;
  load_network(*result.model, Network::kDiscriminator, d_file);
  if (g_file) load_network(*result.model, Network::kGenerator, *g_file);
  require_finite_weights(*result.model, dir);
  for (const auto& candidate :
       {discriminator_dir / "vocab.txt", root / "vocab.txt", generator_dir / "vocab.txt"}) {
    if (fs::exists(candidate)) {
      result.vocab_path = candidate.string();
      break;
    }
  }
  return result;
}

ModelConfig hf_discriminator_config(const std::string& config_path) {
  return config_from_hf(read_json(config_path), config_path, nullptr, "");
}

void export_hf(ElectraModelImpl& model, const std::string& vocab_path, const std::string& out_dir) {
  auto parameters = model.named_parameters();
  std::string vocab;
  {
    std::ifstream in(vocab_path, std::ios::binary);
    if (!in) throw std::runtime_error(vocab_path + ": cannot read the vocabulary to export");
    vocab.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (Network network : {Network::kDiscriminator, Network::kGenerator}) {
    const fs::path dir =
        fs::path(out_dir) / (network == Network::kDiscriminator ? "discriminator" : "generator");
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) throw std::runtime_error(dir.string() + ": cannot create: " + error.message());
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& name : hf_parameter_names(model.config, network)) {
      tensors.emplace_back(name.hf, name.of(parameters[name.ours]));
    }
    write_tensors((dir / "model.safetensors").string(), tensors);
    data::write_file_atomically((dir / "config.json").string(),
                                hf_config_json(model.config, network).dump(2) + "\n");
    data::write_file_atomically((dir / "vocab.txt").string(), vocab);
  }
}

}  // namespace electra::model
