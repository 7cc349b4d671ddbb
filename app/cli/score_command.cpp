// electra score: what the discriminator thinks was replaced, token by token, as JSON.
#include <torch/csrc/autograd/grad_mode.h>

#include <iostream>

#include "app/cli/command.h"
#include "app/train/model_source.h"
#include "data/wordpiece_tokenizer.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("model", po::value<std::string>()->required(),
                        "an HF ELECTRA directory, a checkpoint or a run directory")(
      "text", po::value<std::string>()->required(), "the text to score")(
      "text-pair", po::value<std::string>(), "a second segment (sentence B)")(
      "vocab", po::value<std::string>()->default_value(""),
      "vocab.txt, when the model directory has none")("cased", po::bool_switch(),
                                                      "the model's vocabulary is cased");
}

int run(const po::variables_map& options) {
  auto source = train::load_model_source(options["model"].as<std::string>(),
                                         options["vocab"].as<std::string>());
  if (source.vocab_path.empty()) {
    throw UsageError(source.path + " has no vocab.txt: pass --vocab FILE");
  }
  auto vocab = std::make_shared<const data::Vocabulary>(data::Vocabulary::load(source.vocab_path));
  if (int64_t(vocab->size()) != source.model->config.vocab_size) {
    throw std::runtime_error(
        source.vocab_path + ": " + std::to_string(vocab->size()) + " tokens, the model has " +
        std::to_string(source.model->config.vocab_size) + "; pass its --vocab");
  }
  const data::WordPieceTokenizer tokenizer(vocab, !options["cased"].as<bool>());
  const std::string text = options["text"].as<std::string>();
  std::string pair_text;
  std::string_view pair;
  if (options.count("text-pair"))
    pair_text = options["text-pair"].as<std::string>(), pair = pair_text;
  const std::vector<int32_t> ids =
      tokenizer.encode_with_specials(text, options.count("text-pair") ? &pair : nullptr);
  const auto length = int64_t(ids.size());
  if (length > source.model->config.max_position_embeddings) {
    throw UsageError("the text has " + std::to_string(length) +
                     " tokens, the model takes at most " +
                     std::to_string(source.model->config.max_position_embeddings));
  }
  // Segment B (token type 1) starts after [CLS] A [SEP].
  const size_t first_segment = tokenizer.encode_with_specials(text).size();
  std::vector<int64_t> types(ids.size(), 0);
  for (size_t i = first_segment; i < ids.size(); ++i) types[i] = 1;
  torch::NoGradGuard no_grad;
  source.model->eval();
  const auto input = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0);
  const auto token_types = torch::tensor(types).unsqueeze(0);
  const auto logits =
      source.model->discriminator->forward(input, token_types, torch::ones_like(input))[0];
  const auto probabilities = torch::sigmoid(logits);
  nlohmann::json out = {{"model", source.path},
                        {"tokens", nlohmann::json::array()},
                        {"ids", ids},
                        {"logits", nlohmann::json::array()},
                        {"replaced_prob", nlohmann::json::array()}};
  for (int64_t i = 0; i < length; ++i) {
    out["tokens"].push_back(vocab->token(ids[size_t(i)]));
    out["logits"].push_back(logits[i].item<double>());
    out["replaced_prob"].push_back(probabilities[i].item<double>());
  }
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

Command score_command() {
  return {"score",
          "Show, per token, how likely the discriminator thinks it was replaced.",
          "--model DIR --text TEXT [--text-pair TEXT] [--vocab FILE]",
          declare,
          {},
          run};
}

}  // namespace electra::cli
