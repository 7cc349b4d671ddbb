#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <set>

#include "app/model/electra_model.h"
#include "app/model/encoder.h"
#include "app/model/hf_format.h"

namespace electra::model {
namespace {

int64_t count(const std::vector<torch::Tensor>& parameters) {
  int64_t n = 0;
  for (const auto& p : parameters) n += p.numel();
  return n;
}

TEST(ModelConfig, PresetsHaveThePapersSizes) {
  const auto small = ModelConfig::load("small");
  EXPECT_EQ(small.embedding_size, 128);
  EXPECT_EQ(small.discriminator.hidden_size, 256);
  EXPECT_EQ(small.generator.hidden_size, 64);
  const auto large = ModelConfig::load("large");
  EXPECT_EQ(large.discriminator.num_hidden_layers, 24);
  EXPECT_EQ(large.generator.num_attention_heads, 4);  // max(1, 256 / 64)
  ElectraModel model(small);
  const int64_t discriminator =
      count(model->embeddings->parameters()) + count(model->discriminator->parameters());
  EXPECT_NEAR(double(discriminator), 13.55e6, 0.1e6);  // ELECTRA-Small: 14M in the paper
  ElectraModel base(ModelConfig::load("base"));
  const int64_t base_discriminator =
      count(base->embeddings->parameters()) + count(base->discriminator->parameters());
  EXPECT_NEAR(double(base_discriminator), 110e6, 1e6);  // ELECTRA-Base: 110M
}

TEST(ModelConfig, OverridesAndValidationNameTheField) {
  auto config = ModelConfig::load("tiny");
  config.set("generator.hidden_size=64");
  config.set("hidden_dropout_prob=0");
  EXPECT_EQ(config.generator.hidden_size, 64);
  EXPECT_EQ(config.hidden_dropout_prob, 0.0);
  EXPECT_EQ(ModelConfig::from_json(config.to_json(), "round trip").to_json(), config.to_json());
  auto error = [&](const std::string& assignment) {
    try {
      auto copy = config;
      copy.set(assignment);
    } catch (const std::exception& e) {  // invalid_argument: an option (exit 2)
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("generator.width=3").find("no field 'generator.width'"), std::string::npos);
  EXPECT_NE(error("vocab_size=abc").find("'abc' is not a whole number"), std::string::npos);
  EXPECT_NE(error("vocab_size=128.5").find("'128.5' is not a whole number"), std::string::npos);
  EXPECT_NE(error("hidden_dropout_prob=0.1x").find("'0.1x' is not a number"), std::string::npos);
  EXPECT_NE(error("share_embeddings=no").find("write true or false"), std::string::npos);
  auto untied = config;
  untied.set("share_embeddings=false");
  EXPECT_FALSE(untied.share_embeddings);
  EXPECT_NE(error("discriminator.num_attention_heads=3").find("must divide"), std::string::npos);
  EXPECT_THROW(ModelConfig::load("no-such-preset"), std::runtime_error);
}

TEST(ElectraModel, SharesOneEmbeddingModuleAndTiesTheGeneratorOutput) {
  auto config = ModelConfig::load("tiny");
  ElectraModel model(config);
  // Parameters are listed once: the pair = shared embeddings + generator + discriminator.
  EXPECT_EQ(count(model->parameters()), count(model->embeddings->parameters()) +
                                            count(model->generator->parameters()) +
                                            count(model->discriminator->parameters()));
  EXPECT_EQ(model->generator->embeddings.ptr(), model->embeddings.ptr());
  EXPECT_EQ(model->discriminator->embeddings.ptr(), model->embeddings.ptr());
  // The generator's vocabulary logits use the word embeddings: its loss reaches them.
  const auto ids = torch::randint(5, config.vocab_size, {2, 16});
  const auto types = torch::zeros({2, 16}, torch::kLong);
  const auto mask = torch::ones({2, 16}, torch::kLong);
  const auto hidden = model->generator->encode(ids, types, mask).last_hidden;
  const auto positions = torch::tensor({{1, 5, 7}, {2, 3, 15}});
  const auto logits = model->generator->logits_at(hidden, positions);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 3, config.vocab_size}));
  logits.sum().backward();
  EXPECT_GT(model->embeddings->word_embeddings->weight.grad().abs().sum().item<double>(), 0);
  EXPECT_FALSE(model->discriminator->head_dense->weight.grad().defined());
}

// is_generators_own (what --gen-lr-scale slows) names exactly the parameters of the generator's
// own modules: its encoder and head, and its embeddings when they are not shared; never the
// shared embeddings or anything of the discriminator's.
TEST(ElectraModel, GeneratorsOwnParametersAreNamedByTheirModule) {
  for (const bool shared : {true, false}) {
    auto config = ModelConfig::load("tiny");
    config.share_embeddings = shared;
    ElectraModel model(config);
    std::set<const void*> own;
    for (const auto& p : model->generator->parameters()) own.insert(p.data_ptr());
    if (!shared) {
      for (const auto& p : model->generator_embeddings->parameters()) own.insert(p.data_ptr());
    }
    size_t named_own = 0;
    for (const auto& item : model->named_parameters()) {
      const bool is_own = own.count(item.value().data_ptr()) > 0;
      EXPECT_EQ(is_generators_own(item.key()), is_own) << item.key() << " shared " << shared;
      named_own += is_own;
    }
    EXPECT_EQ(named_own, own.size());
    EXPECT_GT(named_own, 0u);
  }
}

// discriminator_trains_word_embeddings false: the discriminator's loss leaves the shared word rows
// alone (the generator's still trains them) but trains every other table and its own layers; the
// forward is the same.
TEST(ElectraModel, DiscriminatorCanLeaveTheWordEmbeddingsToTheGenerator) {
  auto config = ModelConfig::load("tiny");
  const auto ids = torch::randint(5, config.vocab_size, {2, 16});
  const auto types = torch::zeros({2, 16}, torch::kLong);
  const auto mask = torch::ones({2, 16}, torch::kLong);
  auto gradients = [&](bool trains) {
    auto c = config;
    c.set(std::string("discriminator_trains_word_embeddings=") + (trains ? "true" : "false"));
    torch::manual_seed(7);
    ElectraModel model(c);
    model->eval();
    const auto logits = model->discriminator->forward(ids, types, mask);
    logits.sum().backward();
    const auto& words = model->embeddings->word_embeddings->weight;
    return std::tuple{
        logits.detach(), words.grad().defined() ? words.grad().abs().sum().item<double>() : 0.0,
        model->embeddings->position_embeddings->weight.grad().abs().sum().item<double>()};
  };
  const auto [paper_logits, paper_words, paper_positions] = gradients(true);
  const auto [left_logits, left_words, left_positions] = gradients(false);
  EXPECT_TRUE(paper_logits.equal(left_logits));
  EXPECT_GT(paper_words, 0);
  EXPECT_EQ(left_words, 0);
  EXPECT_GT(left_positions, 0);
  EXPECT_NEAR(left_positions, paper_positions, 1e-6 * paper_positions);

  auto unshared = config;
  unshared.share_embeddings = false;
  unshared.discriminator_trains_word_embeddings = false;
  try {
    unshared.validate("test");
    ADD_FAILURE() << "no error for word rows no network trains";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("needs share_embeddings true"), std::string::npos);
  }
  EXPECT_TRUE(ModelConfig::from_json(config.to_json(), "t").discriminator_trains_word_embeddings);
  auto older = config.to_json();
  older.erase("discriminator_trains_word_embeddings");  // a config written before the option
  EXPECT_TRUE(ModelConfig::from_json(older, "older").discriminator_trains_word_embeddings);
}

TEST(ElectraModel, InitialisesAsTheReference) {
  auto config = ModelConfig::load("tiny");
  ElectraModel model(config);
  const auto& words = model->embeddings->word_embeddings->weight;
  EXPECT_NEAR(words.std().item<double>(), 0.02, 0.001);
  EXPECT_EQ(words[config.pad_token_id].abs().sum().item<double>(), 0.0);
  const auto& layer = model->discriminator->encoder->layers[0]->as<EncoderLayerImpl>();
  EXPECT_NEAR(layer->query_key_value->weight.std().item<double>(), 0.02, 0.003);
  EXPECT_EQ(layer->query_key_value->bias.abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(layer->output_norm->weight.eq(1).all().item<bool>());
  EXPECT_EQ(model->generator->output_bias.abs().sum().item<double>(), 0.0);
}

TEST(ElectraModel, PaddingDoesNotChangeTheRealTokensOutputs) {
  auto config = ModelConfig::load("tiny");
  ElectraModel model(config);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto ids = torch::randint(5, 1000, {1, 10});
  const auto padded = torch::cat({ids, torch::zeros({1, 6}, torch::kLong)}, 1);
  const auto short_logits =
      model->discriminator->forward(ids, torch::zeros_like(ids), torch::ones_like(ids));
  auto mask = torch::zeros_like(padded);
  mask.narrow(1, 0, 10).fill_(1);
  const auto long_logits = model->discriminator->forward(padded, torch::zeros_like(padded), mask);
  EXPECT_LT((long_logits.narrow(1, 0, 10) - short_logits).abs().max().item<double>(), 1e-5);
}

TEST(ElectraModel, LocalHeadsReadOnlyTheirNeighbours) {
  // One head, two layers: only the first layer gets the local head (model_config.h). At slope 4
  // a place's output moves when its neighbour changes and not when a token 6 places away does
  // (e^-24 of the weight); the same weights without the head move for both. With centre 1 the
  // head reads the two neighbours and not the token 2 places away.
  auto config = ModelConfig::load("tiny");
  config.set("generator.num_hidden_layers=2");
  config.set("local_head_slope=4");
  const EncoderConfig& one_head = config.generator;
  ASSERT_EQ(one_head.num_attention_heads, 1);
  EXPECT_TRUE(has_local_head(one_head, config, 0));
  EXPECT_FALSE(has_local_head(one_head, config, 1));
  EXPECT_TRUE(has_local_head(config.discriminator, config, 3));  // 2 heads: every layer
  // The stacks give each layer its place: the rule above, layer by layer.
  Encoder generator_stack(one_head, config), discriminator_stack(config.discriminator, config);
  EXPECT_TRUE(generator_stack->layers[0]->as<EncoderLayer>()->local_head);
  EXPECT_FALSE(generator_stack->layers[1]->as<EncoderLayer>()->local_head);
  for (const auto& layer : *discriminator_stack->layers) {
    EXPECT_TRUE(layer->as<EncoderLayer>()->local_head);
  }
  torch::manual_seed(3);
  EncoderLayer layer(one_head, config, 0);
  layer->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 12, one_head.hidden_size});
  const auto with_change = [&](int64_t place) {
    auto changed = x.clone();
    changed.select(1, place).add_(torch::randn({one_head.hidden_size}) * 3);
    return changed;
  };
  const auto moved = [&](const torch::Tensor& bias, int64_t place) {
    return (layer->forward(with_change(place), bias) - layer->forward(x, bias))
        .select(1, 2)
        .abs()
        .max()
        .item<double>();
  };
  const auto local = [](double slope, int64_t centre) {
    return local_head_bias(1, 12, slope, centre, torch::kFloat32, torch::kCPU);
  };
  EXPECT_GT(moved(local(4, 0), 3), 1e-3);  // the neighbour
  EXPECT_LT(moved(local(4, 0), 8), 1e-6);  // 6 places away
  EXPECT_GT(moved({}, 3), 1e-3);           // the paper's head reads both
  EXPECT_GT(moved({}, 8), 1e-3);
  EXPECT_GT(moved(local(20, 1), 1), 1e-3);  // centre 1: both neighbours
  EXPECT_GT(moved(local(20, 1), 3), 1e-3);
  EXPECT_LT(moved(local(20, 1), 4), 1e-6);  // 2 places away
  // The bias itself: -slope x ||offset| - centre| in the first head, 0 in the others.
  const auto bias = local_head_bias(2, 4, 1.5, 0, torch::kFloat32, torch::kCPU);
  ASSERT_EQ(bias.sizes(), (std::vector<int64_t>{1, 2, 4, 4}));
  EXPECT_EQ(bias[0][0][1][3].item<float>(), -3.0f);
  EXPECT_EQ(bias[0][0][3][0].item<float>(), -4.5f);
  EXPECT_EQ(bias[0][0][2][2].item<float>(), 0.0f);
  EXPECT_EQ(bias[0][1].abs().sum().item<float>(), 0.0f);
  const auto centred = local_head_bias(2, 4, 1.5, 1, torch::kFloat32, torch::kCPU);
  EXPECT_EQ(centred[0][0][2][2].item<float>(), -1.5f);
  EXPECT_EQ(centred[0][0][2][1].item<float>(), 0.0f);
  EXPECT_EQ(centred[0][0][2][3].item<float>(), 0.0f);
  EXPECT_EQ(centred[0][0][3][0].item<float>(), -3.0f);
  // The stack gives the layers with a local head the local bias plus the padding's, the others
  // the padding's alone: its output is its layers' run by hand so.
  auto mask = torch::ones({1, 12}, torch::kLong);
  mask.narrow(1, 10, 2).fill_(0);
  const auto padding = attention_bias_from_mask(mask, torch::kFloat32);
  for (int64_t centre : {0, 1}) {
    auto centred_config = config;
    centred_config.set("local_head_centre=" + std::to_string(centre));
    Encoder stack(one_head, centred_config);
    stack->eval();
    auto by_hand = stack->layers[0]->as<EncoderLayer>()->forward(x, padding + local(4, centre));
    by_hand = stack->layers[1]->as<EncoderLayer>()->forward(by_hand, padding);
    EXPECT_LT((stack->forward(x, mask) - by_hand).abs().max().item<double>(), 1e-6) << centre;
    // Without padding the local bias alone.
    auto unpadded = stack->layers[0]->as<EncoderLayer>()->forward(x, local(4, centre));
    unpadded = stack->layers[1]->as<EncoderLayer>()->forward(unpadded, {});
    EXPECT_LT((stack->forward(x, {}) - unpadded).abs().max().item<double>(), 1e-6) << centre;
  }
  // Two heads: every layer gets the local bias, in its first head alone, with the padding's.
  auto two_heads = config;
  two_heads.set("discriminator.num_hidden_layers=2");
  Encoder wide(two_heads.discriminator, two_heads);
  wide->eval();
  const auto wide_x = torch::randn({1, 12, two_heads.discriminator.hidden_size});
  const auto wide_bias = padding + local_head_bias(2, 12, 4, 0, torch::kFloat32, torch::kCPU);
  auto wide_by_hand = wide->layers[0]->as<EncoderLayer>()->forward(wide_x, wide_bias);
  wide_by_hand = wide->layers[1]->as<EncoderLayer>()->forward(wide_by_hand, wide_bias);
  EXPECT_LT((wide->forward(wide_x, mask) - wide_by_hand).abs().max().item<double>(), 1e-6);
  auto padding_only = wide->layers[0]->as<EncoderLayer>()->forward(wide_x, padding);
  padding_only = wide->layers[1]->as<EncoderLayer>()->forward(padding_only, padding);
  EXPECT_GT((wide->forward(wide_x, mask) - padding_only).abs().max().item<double>(), 1e-3);
  // Padded places changed leave the real places alone with the padding bias in the sum.
  generator_stack->eval();
  auto padded = x.clone();
  padded.narrow(1, 10, 2).add_(torch::randn({2, one_head.hidden_size}) * 3);
  EXPECT_LT((generator_stack->forward(padded, mask) - generator_stack->forward(x, mask))
                .narrow(1, 0, 10)
                .abs()
                .max()
                .item<double>(),
            1e-6);
}

TEST(ModelConfig, LocalHeadSlopeIsCheckedAndTravelsThroughHuggingFaceFiles) {
  auto config = ModelConfig::load("tiny");
  EXPECT_EQ(config.local_head_slope, 0.0);  // the paper's by default
  auto json = config.to_json();
  json.erase("local_head_slope");  // files written before the fields: the paper's
  json.erase("local_head_centre");
  EXPECT_EQ(ModelConfig::from_json(json, "old file").local_head_slope, 0.0);
  EXPECT_EQ(ModelConfig::from_json(json, "old file").local_head_centre, 0);
  EXPECT_FALSE(hf_config_json(config, Network::kDiscriminator).contains("local_head_slope"));
  config.set("local_head_slope=1");
  EXPECT_EQ(ModelConfig::from_json(config.to_json(), "round trip").local_head_slope, 1.0);
  const auto hf = hf_config_json(config, Network::kDiscriminator);
  EXPECT_EQ(hf.at("local_head_slope").get<double>(), 1.0);
  const auto path = std::filesystem::temp_directory_path() /
                    ("local_head_slope_config_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << hf.dump();
  EXPECT_EQ(hf_discriminator_config(path.string()).local_head_slope, 1.0);
  EXPECT_EQ(hf_discriminator_config(path.string()).local_head_centre, 0);
  config.set("local_head_centre=1");
  std::ofstream(path) << hf_config_json(config, Network::kDiscriminator).dump();
  EXPECT_EQ(hf_discriminator_config(path.string()).local_head_centre, 1);
  EXPECT_EQ(ModelConfig::from_json(config.to_json(), "round trip").local_head_centre, 1);
  std::filesystem::remove(path);
  // A centre without a slope (no heads yet) reads back as written.
  auto centre_only = ModelConfig::load("tiny");
  centre_only.set("local_head_centre=1");
  EXPECT_EQ(hf_config_json(centre_only, Network::kDiscriminator).at("local_head_centre"), 1);
  // One setting for the pair: a generator whose centre differs is refused, naming both files.
  const auto pair_dir =
      std::filesystem::temp_directory_path() / ("local_head_pair_" + std::to_string(::getpid()));
  for (const char* network : {"discriminator", "generator"}) {
    std::filesystem::create_directories(pair_dir / network);
    auto written = config;
    if (std::string(network) == "generator") written.set("local_head_centre=0");
    std::ofstream(pair_dir / network / "config.json")
        << hf_config_json(written, std::string(network) == "generator" ? Network::kGenerator
                                                                       : Network::kDiscriminator)
               .dump();
  }
  try {
    import_hf(pair_dir.string());
    ADD_FAILURE() << "a pair with two local_head_centre values was imported";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("local_head_centre differs from the discriminator's"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(pair_dir);
  try {
    config.set("local_head_centre=2");
    ADD_FAILURE() << "local_head_centre=2 was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("local_head_centre must be 0"), std::string::npos)
        << e.what();
  }
  for (const char* bad : {"local_head_slope=-1", "local_head_slope=101", "local_head_slope=nan"}) {
    auto copy = config;
    try {
      copy.set(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find("local_head_slope must be a number in [0, 100]"),
                std::string::npos)
          << e.what();
    }
  }
}

// An encoder layer as model files stored it before the query, key and value were fused.
struct LegacyLayer : torch::nn::Module {
  explicit LegacyLayer(int64_t h) {
    for (const char* name : {"query", "key", "value", "attention_output"}) {
      register_module(name, torch::nn::Linear(h, h));
    }
    register_module("attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
    register_module("intermediate", torch::nn::Linear(h, 4 * h));
    register_module("output", torch::nn::Linear(4 * h, h));
    register_module("output_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
    register_module("dropout", torch::nn::Dropout(0.1));
  }
};

TEST(ElectraModel, LoadsModelFilesWrittenBeforeTheAttentionFusion) {
  auto config = ModelConfig::load("tiny");
  const int64_t h = config.discriminator.hidden_size;
  LegacyLayer legacy(h);
  torch::serialize::OutputArchive archive;
  legacy.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  EncoderLayer layer(config.discriminator, config, 0);
  torch::serialize::InputArchive in;
  std::istringstream input(bytes.str());
  in.load_from(input);
  layer->load(in);
  auto old = legacy.named_parameters();
  const auto expected = torch::cat({old["query.weight"], old["key.weight"], old["value.weight"]});
  EXPECT_TRUE(layer->query_key_value->weight.equal(expected));
  EXPECT_TRUE(layer->query_key_value->bias.equal(
      torch::cat({old["query.bias"], old["key.bias"], old["value.bias"]})));
  EXPECT_TRUE(layer->intermediate->weight.equal(old["intermediate.weight"]));
  // And the same layer computes what the three projections computed.
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 5, h});
  const auto fused = layer->query_key_value(x).chunk(3, -1);
  EXPECT_TRUE(fused[1].allclose(legacy.named_children()["key"]->as<torch::nn::Linear>()->forward(x),
                                1e-5, 1e-6));
}

TEST(HfNames, MapEveryParameterOnce) {
  for (const bool shared : {true, false}) {
    auto config = ModelConfig::load("tiny");
    config.share_embeddings = shared;  // false: the generator's embeddings are its own
    ElectraModel model(config);
    auto parameters = model->named_parameters();
    std::set<std::string> covered;
    for (Network network : {Network::kDiscriminator, Network::kGenerator}) {
      for (const auto& name : hf_parameter_names(config, network)) {
        EXPECT_TRUE(parameters.contains(name.ours)) << name.ours;
        covered.insert(name.ours + (name.part < 0 ? "" : "#" + std::to_string(name.part)));
        if (name.part >= 0) {  // a third of the fused query/key/value projection, by rows
          EXPECT_NE(name.ours.find(".query_key_value."), std::string::npos) << name.ours;
          EXPECT_EQ(name.of(parameters[name.ours]).size(0) * 3, parameters[name.ours].size(0));
        }
      }
    }
    // Every parameter once, the fused projections as their three parts.
    size_t fused = 0;
    for (const auto& item : parameters)
      fused += item.key().find(".query_key_value.") != std::string::npos;
    EXPECT_EQ(covered.size(), parameters.size() + 2 * fused) << "shared " << shared;
  }
}

}  // namespace
}  // namespace electra::model
