// The shape of an ELECTRA generator/discriminator pair (DESIGN.md section 3). Presets live in
// configs/model/*.json; every field can be overridden; the resolved config is saved as JSON beside
// every checkpoint.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace electra::model {

// One transformer stack.
struct EncoderConfig {
  int64_t hidden_size = 256;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 4;
  int64_t intermediate_size = 1024;
};

struct ModelConfig {
  int64_t vocab_size = 30522;
  int64_t embedding_size = 128;  // E: shared by both networks
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  double initializer_range = 0.02;
  EncoderConfig discriminator;
  EncoderConfig generator{64, 12, 1, 256};
  // The generator uses the discriminator's embeddings (the paper's tying, default); false gives
  // it its own (--strategy two-stage, where the generator stays frozen while the discriminator's
  // embeddings train). Optional in JSON (configs written before it existed share them).
  bool share_embeddings = true;
  // false: the discriminator reads the shared word embeddings without a gradient, so only the
  // generator's masked LM trains them (its loss still trains the position and segment tables and
  // the embedding LayerNorm). Optional in JSON (true, the paper's, before it existed).
  bool discriminator_trains_word_embeddings = true;
  // Not the paper's architecture (issue 27): > 0 fixes the first attention head of every layer on
  // the neighbours with a bias of -local_head_slope x ||key - query| - local_head_centre| added to
  // its scores, never trained (in a network of one head, in the first half of its layers, so that
  // it keeps layers that see the whole sequence). At CPU scale no head learns to read its
  // neighbours by itself (README, "Why the discriminator collapses"). 0: none, the paper's.
  // local_head_centre: where those heads peak, 0 on the token itself (and its neighbours a slope's
  // worth below), 1 on its two neighbours. Both optional in JSON (0 before they existed).
  double local_head_slope = 0;
  int64_t local_head_centre = 0;

  nlohmann::json to_json() const;
  // Every field must be present and valid; throws naming `source` and the field.
  static ModelConfig from_json(const nlohmann::json& json, const std::string& source);
  // configs/model/NAME.json (tiny, small, base, large) or a path to such a file.
  static ModelConfig load(const std::string& name_or_path);
  // "generator.hidden_size=128", "hidden_dropout_prob=0": one field by its JSON path.
  void set(const std::string& assignment);
  // Throws naming the field when sizes are inconsistent (heads must divide hidden_size, ...).
  void validate(const std::string& source) const;

  // The pair's parameters (embeddings, both encoders, the heads), and the bytes one example's
  // forward and backward keep at max_position_embeddings tokens (fp32 activations and attention
  // probabilities): what validate() bounds before anything is allocated.
  double parameter_count() const;
  double activation_bytes_per_example() const;
};

}  // namespace electra::model
