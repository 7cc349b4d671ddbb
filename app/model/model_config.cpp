#include "app/model/model_config.h"

#include "data/json_fields.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace electra::model {

using nlohmann::json;

namespace {

json encoder_json(const EncoderConfig& c) {
  return {{"hidden_size", c.hidden_size},
          {"num_hidden_layers", c.num_hidden_layers},
          {"num_attention_heads", c.num_attention_heads},
          {"intermediate_size", c.intermediate_size}};
}

EncoderConfig encoder_from_json(const json& j, const std::string& where) {
  return {data::json_field<int64_t>(j, "hidden_size", where),
          data::json_field<int64_t>(j, "num_hidden_layers", where),
          data::json_field<int64_t>(j, "num_attention_heads", where),
          data::json_field<int64_t>(j, "intermediate_size", where)};
}

}  // namespace

json ModelConfig::to_json() const {
  return {{"vocab_size", vocab_size},
          {"embedding_size", embedding_size},
          {"max_position_embeddings", max_position_embeddings},
          {"type_vocab_size", type_vocab_size},
          {"pad_token_id", pad_token_id},
          {"layer_norm_eps", layer_norm_eps},
          {"hidden_dropout_prob", hidden_dropout_prob},
          {"attention_probs_dropout_prob", attention_probs_dropout_prob},
          {"initializer_range", initializer_range},
          {"discriminator", encoder_json(discriminator)},
          {"generator", encoder_json(generator)},
          {"share_embeddings", share_embeddings}};
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& source) {
  ModelConfig c;
  c.vocab_size = data::json_field<int64_t>(j, "vocab_size", source);
  c.embedding_size = data::json_field<int64_t>(j, "embedding_size", source);
  c.max_position_embeddings = data::json_field<int64_t>(j, "max_position_embeddings", source);
  c.type_vocab_size = data::json_field<int64_t>(j, "type_vocab_size", source);
  c.pad_token_id = data::json_field<int64_t>(j, "pad_token_id", source);
  c.layer_norm_eps = data::json_field<double>(j, "layer_norm_eps", source);
  c.hidden_dropout_prob = data::json_field<double>(j, "hidden_dropout_prob", source);
  c.attention_probs_dropout_prob =
      data::json_field<double>(j, "attention_probs_dropout_prob", source);
  c.initializer_range = data::json_field<double>(j, "initializer_range", source);
  c.discriminator = encoder_from_json(data::json_field<json>(j, "discriminator", source),
                                      source + " discriminator");
  c.generator =
      encoder_from_json(data::json_field<json>(j, "generator", source), source + " generator");
  if (j.contains("share_embeddings")) {
    c.share_embeddings = data::json_field<bool>(j, "share_embeddings", source);
  }
  c.validate(source);
  return c;
}

ModelConfig ModelConfig::load(const std::string& name_or_path) {
  std::string path = name_or_path;
  if (!std::filesystem::exists(path)) {
    path = std::string(ELECTRA_CONFIG_DIR) + "/model/" + name_or_path + ".json";
  }
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(name_or_path +
                             ": no such model config (a file, or one of tiny, small, base, large)");
  }
  const json j = data::read_json_file(path, "cannot open the model config");
  return from_json(j, path);
}

void ModelConfig::set(const std::string& assignment) {
  const size_t equals = assignment.find('=');
  if (equals == std::string::npos) {
    throw std::runtime_error("model override '" + assignment + "': write FIELD=VALUE");
  }
  const std::string key = assignment.substr(0, equals), value = assignment.substr(equals + 1);
  json j = to_json();
  const json::json_pointer pointer("/" + [&] {
    std::string p = key;
    for (char& ch : p) ch = ch == '.' ? '/' : ch;
    return p;
  }());
  if (!j.contains(pointer) || j.at(pointer).is_object()) {
    throw std::runtime_error("model override '" + assignment + "': no field '" + key + "'");
  }
  if (j.at(pointer).is_boolean()) {
    if (value != "true" && value != "false") {
      throw std::runtime_error("model override '" + assignment + "': write true or false");
    }
    j[pointer] = value == "true";
  } else {
    try {
      j[pointer] =
          j.at(pointer).is_number_integer() ? json(std::stoll(value)) : json(std::stod(value));
    } catch (const std::exception&) {
      throw std::runtime_error("model override '" + assignment + "': '" + value +
                               "' is not a number");
    }
  }
  *this = from_json(j, "model override '" + assignment + "'");
}

void ModelConfig::validate(const std::string& source) const {
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(source + ": " + what);
  };
  for (const auto& [name, e] :
       {std::pair{"discriminator", discriminator}, {"generator", generator}}) {
    const std::string n = name;
    require(e.hidden_size > 0 && e.num_hidden_layers > 0 && e.num_attention_heads > 0 &&
                e.intermediate_size > 0,
            n + " sizes must be positive");
    require(e.hidden_size % e.num_attention_heads == 0,
            n + ".num_attention_heads must divide " + n + ".hidden_size");
  }
  require(
      vocab_size > 0 && embedding_size > 0 && max_position_embeddings > 0 && type_vocab_size > 0,
      "vocab_size, embedding_size, max_position_embeddings and type_vocab_size must be positive");
  // Sane limits, checked before anything is allocated: far above any published ELECTRA (large:
  // hidden 1024, 24 layers, intermediate 4096, 512 positions, 30,522 tokens) and far below what
  // would overflow a tensor's size.
  const auto at_most = [&](int64_t value, int64_t limit, const std::string& field) {
    require(value <= limit, field + " " + std::to_string(value) + " is beyond the limit of " +
                                std::to_string(limit) + "; check the config");
  };
  for (const auto& [name, e] :
       {std::pair{"discriminator", discriminator}, {"generator", generator}}) {
    const std::string n = name;
    at_most(e.hidden_size, 65536, n + ".hidden_size");
    at_most(e.num_hidden_layers, 1024, n + ".num_hidden_layers");
    at_most(e.num_attention_heads, 4096, n + ".num_attention_heads");
    at_most(e.intermediate_size, 262144, n + ".intermediate_size");
  }
  at_most(vocab_size, 4000000, "vocab_size");
  at_most(embedding_size, 65536, "embedding_size");
  at_most(max_position_embeddings, 1048576, "max_position_embeddings");
  at_most(type_vocab_size, 1024, "type_vocab_size");
  require(pad_token_id >= 0 && pad_token_id < vocab_size, "pad_token_id must be a vocabulary id");
  require(hidden_dropout_prob >= 0 && hidden_dropout_prob < 1 &&
              attention_probs_dropout_prob >= 0 && attention_probs_dropout_prob < 1,
          "dropout probabilities must be in [0, 1)");
  require(layer_norm_eps > 0 && initializer_range > 0,
          "layer_norm_eps and initializer_range must be positive");
}

}  // namespace electra::model
