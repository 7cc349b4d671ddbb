#include "app/model/model_config.h"

#include "data/json_fields.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
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
          {"share_embeddings", share_embeddings},
          {"discriminator_trains_word_embeddings", discriminator_trains_word_embeddings},
          {"local_head_slope", local_head_slope},
          {"local_head_centre", local_head_centre}};
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
  if (j.contains("discriminator_trains_word_embeddings")) {
    c.discriminator_trains_word_embeddings =
        data::json_field<bool>(j, "discriminator_trains_word_embeddings", source);
  }
  if (j.contains("local_head_slope")) {
    c.local_head_slope = data::json_field<double>(j, "local_head_slope", source);
  }
  if (j.contains("local_head_centre")) {
    c.local_head_centre = data::json_field<int64_t>(j, "local_head_centre", source);
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
    throw std::invalid_argument("model override '" + assignment + "': write FIELD=VALUE");
  }
  const std::string key = assignment.substr(0, equals), value = assignment.substr(equals + 1);
  json j = to_json();
  const json::json_pointer pointer("/" + [&] {
    std::string p = key;
    for (char& ch : p) ch = ch == '.' ? '/' : ch;
    return p;
  }());
  if (!j.contains(pointer) || j.at(pointer).is_object()) {
    throw std::invalid_argument("model override '" + assignment + "': no field '" + key + "'");
  }
  if (j.at(pointer).is_boolean()) {
    if (value != "true" && value != "false") {
      throw std::invalid_argument("model override '" + assignment + "': write true or false");
    }
    j[pointer] = value == "true";
  } else {
    const bool whole = j.at(pointer).is_number_integer();
    size_t used = 0;
    try {
      j[pointer] = whole ? json(std::stoll(value, &used)) : json(std::stod(value, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size()) {
      throw std::invalid_argument("model override '" + assignment + "': '" + value + "' is not " +
                                  (whole ? "a whole number" : "a number"));
    }
  }
  *this = from_json(j, "model override '" + assignment + "'");
}

namespace {

constexpr double kMaxParameters = 4e9;        // ELECTRA-Large's pair: 0.37 billion
constexpr double kMaxActivationBytes = 1e12;  // one example, forward and backward

}  // namespace

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
  require(std::isfinite(local_head_slope) && local_head_slope >= 0 && local_head_slope <= 100,
          "local_head_slope must be a number in [0, 100] (0: no local heads, the paper's)");
  require(local_head_centre == 0 || local_head_centre == 1,
          "local_head_centre must be 0 (local heads peak on the token itself) or 1 (on its two "
          "neighbours)");
  require(discriminator_trains_word_embeddings || share_embeddings,
          "discriminator_trains_word_embeddings false needs share_embeddings true (the "
          "generator's masked LM trains the word rows the discriminator reads)");
  // Each size within its limit can still make a model no machine holds (hidden 16384, FFN 65536,
  // 1024 layers: 3 x 10^12 parameters): the whole is bounded too, and by this machine's memory.
  const double parameters = parameter_count();
  const double activations = activation_bytes_per_example();
  const auto short_number = [](double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", value);
    return std::string(text);
  };
  const auto gigabytes = [&](double bytes) { return short_number(bytes / 1e9) + " GB"; };
  require(parameters <= kMaxParameters,
          "the pair would have " + short_number(parameters) + " parameters (" +
              gigabytes(4 * parameters) +
              " of fp32 weights), beyond the limit of 4e+09; check the config");
  require(activations <= kMaxActivationBytes,
          "one example of max_position_embeddings " + std::to_string(max_position_embeddings) +
              " tokens would keep " + gigabytes(activations) +
              " of activations, beyond the limit of 1,000 GB; check the config");
  const double memory = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  require(memory <= 0 || 4 * parameters <= memory,
          "the pair's fp32 weights alone would take " + gigabytes(4 * parameters) +
              ", more than this machine's " + gigabytes(memory) + " of memory; check the config");
}

double ModelConfig::parameter_count() const {
  const double e = double(embedding_size), v = double(vocab_size);
  double count = (v + double(max_position_embeddings) + double(type_vocab_size) + 2) * e;
  for (const EncoderConfig& c : {discriminator, generator}) {
    const double h = double(c.hidden_size), i = double(c.intermediate_size);
    const double layer = 4 * (h * h + h) + 2 * h * i + i + h + 4 * h;  // attention, FFN, 2 norms
    count += (e + 1) * h + double(c.num_hidden_layers) * layer;        // projection from E
  }
  const double g = double(generator.hidden_size), d = double(discriminator.hidden_size);
  count += g * e + 3 * e + v;  // generator head: dense, norm, output bias
  count += d * d + d + d + 1;  // discriminator head
  if (!share_embeddings) count += (v + double(max_position_embeddings) + 2) * e;
  return count;
}

double ModelConfig::activation_bytes_per_example() const {
  const double s = double(max_position_embeddings);
  double bytes = 0;
  for (const EncoderConfig& c : {discriminator, generator}) {
    const double h = double(c.hidden_size), i = double(c.intermediate_size);
    const double per_layer = s * (10 * h + 3 * i) + 2 * double(c.num_attention_heads) * s * s;
    bytes += 4 * double(c.num_hidden_layers) * per_layer;
  }
  return bytes;
}

}  // namespace electra::model
