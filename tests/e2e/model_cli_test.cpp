// The model commands end to end on the HuggingFace fixture: inspect, score, import-hf, export,
// and clear errors for damaged or inconsistent model directories.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/model/tensor_io.h"
#include "test_util.h"

namespace electra {
namespace {

using electra::testing::run_shell;
using electra::testing::TempDir;
namespace fs = std::filesystem;
using nlohmann::json;

const std::string kElectra = ELECTRA_BINARY;
const std::string kFixture = std::string(ELECTRA_TEST_DATA_DIR) + "/../fixtures/hf-electra-tiny";

using electra::testing::quote;

json run_json(const std::string& command) {
  auto result = run_shell(command + " 2>/dev/null");
  EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.output;
  return json::parse(result.output);
}

TEST(ModelCli, InspectCountsTheParametersOfEachPart) {
  const json out = run_json(kElectra + " inspect --model " + quote(kFixture));
  int64_t hf_discriminator = 0;
  for (const auto& [name, tensor] :
       model::read_tensors(kFixture + "/discriminator/model.safetensors")) {
    hf_discriminator += tensor.numel();
  }
  const auto& p = out["parameters"];
  EXPECT_EQ(p["discriminator_with_embeddings"].get<int64_t>(), hf_discriminator);
  EXPECT_EQ(p["total"].get<int64_t>(), p["shared_embeddings"].get<int64_t>() +
                                           p["generator"].get<int64_t>() +
                                           p["discriminator"].get<int64_t>());
  EXPECT_EQ(out["config"]["discriminator"]["hidden_size"], 64);
}

TEST(ModelCli, ScoreGivesTheDiscriminatorsLogitsPerToken) {
  const json meta = json::parse(testing::read_file(kFixture + "/meta.json"));
  const auto expected = model::read_tensors(kFixture + "/expected.safetensors");
  const std::string a = meta["texts"][1][0], b = meta["texts"][1][1];
  const json out = run_json(kElectra + " score --model " + quote(kFixture) + " --text " + quote(a) +
                            " --text-pair " + quote(b));
  EXPECT_EQ(out["tokens"], meta["tokens"][1]);
  const auto logits = expected.at("discriminator_logits")[1];
  ASSERT_EQ(out["logits"].size(), 22u);
  for (size_t i = 0; i < 22; ++i) {
    EXPECT_EQ(out["ids"][i].get<int64_t>(), expected.at("input_ids")[1][long(i)].item<int64_t>());
    EXPECT_NEAR(out["logits"][i].get<double>(), logits[long(i)].item<double>(), 1e-4) << i;
    const double p = out["replaced_prob"][i];
    EXPECT_NEAR(p, 1.0 / (1.0 + std::exp(-out["logits"][i].get<double>())), 1e-6);  // fp32
  }
}

TEST(ModelCli, ImportThenExportGivesTheSameTensors) {
  TempDir dir;
  auto imported = run_shell(kElectra + " import-hf --model " + quote(kFixture) + " --out " +
                            quote(dir / "run"));
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  auto exported = run_shell(kElectra + " export --checkpoint " + quote(dir / "run") + " --out " +
                            quote(dir / "hf"));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  for (const char* network : {"discriminator", "generator"}) {
    const auto ours =
        model::read_tensors(dir / (std::string("hf/") + network + "/model.safetensors"));
    for (const auto& [name, tensor] :
         model::read_tensors(kFixture + "/" + network + "/model.safetensors")) {
      if (name == "generator_lm_head.weight") continue;  // tied: not written
      ASSERT_TRUE(ours.count(name)) << name;
      EXPECT_TRUE(ours.at(name).equal(tensor)) << network << " " << name;
    }
    const json config =
        json::parse(testing::read_file(dir / (std::string("hf/") + network + "/config.json")));
    const json theirs = json::parse(testing::read_file(kFixture + "/" + network + "/config.json"));
    for (const char* field :
         {"model_type", "vocab_size", "embedding_size", "hidden_size", "num_hidden_layers",
          "num_attention_heads", "intermediate_size", "hidden_act", "architectures",
          "max_position_embeddings", "type_vocab_size", "layer_norm_eps"}) {
      EXPECT_EQ(config[field], theirs[field]) << network << " " << field;
    }
    EXPECT_EQ(testing::read_file(dir / (std::string("hf/") + network + "/vocab.txt")),
              testing::read_file(kFixture + "/vocab.txt"));
  }
  // score and inspect read the native checkpoint (via its run directory) like the HF directory.
  const std::string text = " --text 'The quick brown fox jumps over the lazy dog.'";
  const json from_checkpoint = run_json(kElectra + " score --model " + quote(dir / "run") + text);
  const json from_hf = run_json(kElectra + " score --model " + quote(kFixture) + text);
  EXPECT_EQ(from_checkpoint["logits"], from_hf["logits"]);
  EXPECT_EQ(run_json(kElectra + " inspect --model " + quote(dir / "run"))["parameters"],
            run_json(kElectra + " inspect --model " + quote(kFixture))["parameters"]);
  auto again = run_shell(kElectra + " export --checkpoint " + quote(dir / "run") + " --out " +
                         quote(dir / "hf"));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("hf: holds an export; choose another --out or pass --overwrite"),
            std::string::npos);
}

TEST(ModelCli, RefusesDamagedOrInconsistentModels) {
  TempDir dir;
  fs::copy(kFixture, dir / "truncated", fs::copy_options::recursive);
  const std::string weights = dir / "truncated/discriminator/model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) - 100);
  auto truncated = run_shell(kElectra + " inspect --model " + quote(dir / "truncated"));
  EXPECT_EQ(truncated.exit_code, 1);
  EXPECT_NE(truncated.output.find("model.safetensors: not a valid safetensors file"),
            std::string::npos)
      << truncated.output;

  fs::copy(kFixture, dir / "mismatch", fs::copy_options::recursive);
  json config = json::parse(testing::read_file(kFixture + "/discriminator/config.json"));
  config["intermediate_size"] = 96;
  testing::write_file(dir / "mismatch/discriminator/config.json", config.dump());
  auto mismatch = run_shell(kElectra + " inspect --model " + quote(dir / "mismatch"));
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.output.find(
                "'electra.encoder.layer.0.intermediate.dense.weight' has shape [128, 64]"),
            std::string::npos)
      << mismatch.output;

  fs::create_directories(dir / "empty-run");
  auto no_checkpoint = run_shell(kElectra + " export --checkpoint " + quote(dir / "empty-run") +
                                 " --out " + quote(dir / "x"));
  EXPECT_EQ(no_checkpoint.exit_code, 1);
  EXPECT_NE(no_checkpoint.output.find("neither a complete checkpoint"), std::string::npos)
      << no_checkpoint.output;
}

}  // namespace
}  // namespace electra
