// Parity with HuggingFace transformers on tests/fixtures/hf-electra-tiny (see its README):
// forward outputs, both losses with the fixture's fixed corruption, every gradient, and an
// export -> import -> export round trip.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app/model/hf_format.h"
#include "app/model/tensor_io.h"
#include "app/train/losses.h"
#include "test_util.h"

namespace electra::model {
namespace {

const std::string kFixture = std::string(ELECTRA_TEST_DATA_DIR) + "/../fixtures/hf-electra-tiny";

class HfParity : public ::testing::Test {
 protected:
  void SetUp() override {
    imported = import_hf(kFixture);
    model = imported.model;
    model->eval();
    expected = read_tensors(kFixture + "/expected.safetensors");
    std::ifstream in(kFixture + "/meta.json");
    meta = nlohmann::json::parse(in);
    positions = expected["mlm_positions"].select(1, 1).view({3, 3});  // 3 masked columns a row
  }
  // Largest absolute difference, printed so that a run shows the measured numbers.
  static double max_abs_diff(const at::Tensor& a, const at::Tensor& b, const char* what = "") {
    EXPECT_EQ(a.sizes(), b.sizes());
    const double diff = (a - b).abs().max().item<double>();
    if (*what) std::cout << "max |ours - HF| " << what << ": " << diff << "\n";
    return diff;
  }

  HfImport imported;
  ElectraModel model{nullptr};
  std::map<std::string, at::Tensor> expected;
  nlohmann::json meta;
  at::Tensor positions;  // [3, 3]
};

TEST_F(HfParity, ImportsThePairWithItsVocabulary) {
  EXPECT_TRUE(imported.has_generator);
  EXPECT_NE(imported.vocab_path.find("vocab.txt"), std::string::npos);
  EXPECT_EQ(model->config.discriminator.hidden_size, 64);
  EXPECT_EQ(model->config.generator.hidden_size, 32);
  EXPECT_EQ(model->config.embedding_size, 32);
}

TEST_F(HfParity, ForwardMatchesHuggingFace) {
  torch::NoGradGuard no_grad;
  const auto& ids = expected["input_ids"];
  const auto& types = expected["token_type_ids"];
  const auto& mask = expected["attention_mask"];
  const auto disc = model->discriminator->encode(ids, types, mask);
  EXPECT_LT(max_abs_diff(disc.embedding_output, expected["discriminator_embedding_output"],
                         "discriminator embedding output"),
            1e-4);
  EXPECT_LT(max_abs_diff(disc.last_hidden, expected["discriminator_last_hidden"],
                         "discriminator last hidden"),
            1e-4);
  EXPECT_LT(max_abs_diff(model->discriminator->head(disc.last_hidden),
                         expected["discriminator_logits"], "discriminator logits"),
            1e-4);

  const auto gen = model->generator->encode(expected["generator_input_ids"], types, mask);
  EXPECT_LT(
      max_abs_diff(gen.last_hidden, expected["generator_last_hidden"], "generator last hidden"),
      1e-4);
  const auto logits = model->generator->logits_at(gen.last_hidden, positions).view({9, -1});
  EXPECT_LT(max_abs_diff(logits, expected["generator_logits_at_mlm"], "generator logits at MLM"),
            1e-4);
}

TEST_F(HfParity, LossesAndEveryGradientMatchHuggingFace) {
  const auto& types = expected["token_type_ids"];
  const auto& mask = expected["attention_mask"];
  const auto gen = model->generator->encode(expected["generator_input_ids"], types, mask);
  const auto logits = model->generator->logits_at(gen.last_hidden, positions);  // [3, 3, V]
  const auto targets = expected["input_ids"].gather(1, positions);
  const auto mlm = train::mlm_loss(logits, targets, torch::ones({3, 3}));
  const auto disc_logits = model->discriminator->forward(expected["corrupted_ids"], types, mask);
  EXPECT_LT(max_abs_diff(disc_logits.detach(), expected["corrupted_discriminator_logits"]), 1e-4);
  const auto disc = train::discriminator_loss(disc_logits, expected["rtd_labels"], mask);
  const auto total = mlm + meta["disc_weight"].get<double>() * disc;
  auto relative = [](double ours, double theirs) {
    return std::abs(ours - theirs) / std::abs(theirs);
  };
  std::cout << "relative loss error: mlm " << relative(mlm.item<double>(), meta["mlm_loss"])
            << ", disc " << relative(disc.item<double>(), meta["disc_loss"]) << ", total "
            << relative(total.item<double>(), meta["total_loss"]) << "\n";
  EXPECT_LT(relative(mlm.item<double>(), meta["mlm_loss"]), 1e-5) << mlm.item<double>();
  EXPECT_LT(relative(disc.item<double>(), meta["disc_loss"]), 1e-5) << disc.item<double>();
  EXPECT_LT(relative(total.item<double>(), meta["total_loss"]), 1e-5) << total.item<double>();

  total.backward();
  const auto reference = read_tensors(kFixture + "/expected_grads.safetensors");
  auto parameters = model->named_parameters();
  size_t compared = 0;
  double worst = 0;
  std::string worst_name;
  for (Network network : {Network::kDiscriminator, Network::kGenerator}) {
    const std::string prefix = network == Network::kDiscriminator ? "discriminator." : "generator.";
    for (const auto& name : hf_parameter_names(model->config, network)) {
      const std::string &ours = name.ours, &hf = name.hf;
      const auto found = reference.find(prefix + hf);
      if (found == reference.end()) {  // a shared tensor: listed once, under discriminator.
        EXPECT_TRUE(network == Network::kGenerator && hf.rfind("electra.embeddings.", 0) == 0)
            << hf;
        continue;
      }
      ASSERT_TRUE(parameters[ours].grad().defined()) << ours;
      const at::Tensor grad = name.of(parameters[ours].grad());
      // Relative to the reference norm; the key biases' gradient is zero in exact arithmetic
      // (softmax ignores a per-row constant) and ~1e-11 of rounding in both, so the norm is
      // floored at 1e-6, far below the smallest real gradient here (5e-5).
      const double error = (grad - found->second).norm().item<double>() /
                           std::max(found->second.norm().item<double>(), 1e-6);
      EXPECT_LT(error, 1e-3) << ours << " (" << prefix + hf << ")";
      if (error > worst) worst = error, worst_name = prefix + hf;
      ++compared;
    }
  }
  EXPECT_EQ(compared, reference.size());  // every reference gradient was checked
  std::cout << "gradients compared: " << compared << ", largest relative error " << worst << " ("
            << worst_name << ")\n";
}

TEST_F(HfParity, ExportImportExportIsBitIdentical) {
  testing::TempDir dir;
  export_hf(*model, imported.vocab_path, dir / "first");
  auto again = import_hf(dir / "first");
  export_hf(*again.model, again.vocab_path, dir / "second");
  for (const char* network : {"discriminator", "generator"}) {
    for (const char* file : {"model.safetensors", "config.json", "vocab.txt"}) {
      const std::string a = dir / (std::string("first/") + network + "/" + file);
      const std::string b = dir / (std::string("second/") + network + "/" + file);
      EXPECT_EQ(testing::read_file(a), testing::read_file(b)) << network << "/" << file;
    }
  }
  // Every exported tensor equals the fixture's (the generator file: no tied LM weight).
  for (const char* network : {"discriminator", "generator"}) {
    const auto ours = read_tensors(dir / (std::string("first/") + network + "/model.safetensors"));
    const auto theirs = read_tensors(kFixture + "/" + network + "/model.safetensors");
    for (const auto& [name, tensor] : theirs) {
      if (name == "generator_lm_head.weight") continue;
      ASSERT_TRUE(ours.count(name)) << network << " lacks " << name;
      EXPECT_TRUE(ours.at(name).equal(tensor)) << network << " " << name;
    }
    EXPECT_EQ(ours.count("generator_lm_head.weight"), 0u);
  }
}

// A pair whose generator has embeddings of its own (two-stage training) exports each network with
// the embeddings it uses and comes back the same: not tied by the import.
TEST(HfImport, AGeneratorWithItsOwnEmbeddingsRoundTrips) {
  testing::TempDir dir;
  const HfImport fixture = import_hf(kFixture);
  ModelConfig config = fixture.model->config;
  config.share_embeddings = false;
  ElectraModel pair(config);
  export_hf(*pair, fixture.vocab_path, dir / "hf");
  const auto generator = read_tensors(dir / "hf/generator/model.safetensors");
  EXPECT_TRUE(generator.at("electra.embeddings.word_embeddings.weight")
                  .equal(pair->generator_embeddings->word_embeddings->weight));
  const auto again = import_hf(dir / "hf");
  EXPECT_FALSE(again.model->config.share_embeddings);
  const auto expected = pair->named_parameters();
  const auto got = again.model->named_parameters();
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& item : expected) {
    ASSERT_TRUE(got.contains(item.key())) << item.key();
    EXPECT_TRUE(got[item.key()].equal(item.value())) << item.key();
  }
  // The fixture's pair shares its embeddings and still does after the import.
  EXPECT_TRUE(fixture.model->config.share_embeddings);
}

TEST(HfImport, ADiscriminatorAloneGetsAFreshGenerator) {
  testing::TempDir dir;
  std::filesystem::copy(kFixture + "/discriminator", dir / "discriminator-only");
  auto imported = import_hf(dir / "discriminator-only");
  EXPECT_FALSE(imported.has_generator);
  EXPECT_EQ(imported.model->config.generator.hidden_size, 64);  // max(64, H / 4)
  imported.model->eval();
  torch::NoGradGuard no_grad;
  auto expected = read_tensors(kFixture + "/expected.safetensors");
  const auto logits = imported.model->discriminator->forward(
      expected["input_ids"], expected["token_type_ids"], expected["attention_mask"]);
  EXPECT_LT((logits - expected["discriminator_logits"]).abs().max().item<double>(), 1e-4);
}

}  // namespace
}  // namespace electra::model
