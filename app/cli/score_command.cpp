// electra score: a model's outputs on one text, token by token, as JSON — what the discriminator
// thinks was replaced, or a fine-tuned model's logits (the sentence's, or each token's).
#include <torch/csrc/autograd/grad_mode.h>

#include <iostream>

#include "app/cli/command.h"
#include "app/finetune/finetuned_model.h"
#include "app/train/model_source.h"
#include "data/wordpiece_tokenizer.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("model", po::value<std::string>()->required(),
                        "an HF ELECTRA directory, a checkpoint, a run directory, or a fine-tuned "
                        "model (electra finetune --out, or a fine-tuned HF folder)")(
      "text", po::value<std::string>()->required(), "the text to score")(
      "text-pair", po::value<std::string>(), "a second segment (sentence B)")(
      "vocab", po::value<std::string>()->default_value(""),
      "vocab.txt, when the model directory has none")("cased", po::bool_switch(),
                                                      "the model's vocabulary is cased");
}

// The text (and pair) as the model's inputs: ids with [CLS]/[SEP], token types, and the tokens.
struct ScoredInput {
  std::vector<int32_t> ids;
  at::Tensor input_ids, token_types;
  nlohmann::json tokens = nlohmann::json::array();
};

ScoredInput encode(const po::variables_map& options, const std::string& vocab_path,
                   int64_t vocab_size, int64_t max_positions, bool lowercase) {
  train::check_vocabulary(vocab_path, vocab_size, options["model"].as<std::string>());
  auto vocab = std::make_shared<const data::Vocabulary>(data::Vocabulary::load(vocab_path));
  const data::WordPieceTokenizer tokenizer(vocab, lowercase);
  const std::string text = options["text"].as<std::string>();
  std::string pair_text;
  std::string_view pair;
  if (options.count("text-pair"))
    pair_text = options["text-pair"].as<std::string>(), pair = pair_text;
  ScoredInput input;
  input.ids = tokenizer.encode_with_specials(text, options.count("text-pair") ? &pair : nullptr);
  const auto length = int64_t(input.ids.size());
  if (length > max_positions) {
    throw UsageError("the text has " + std::to_string(length) +
                     " tokens, the model takes at most " + std::to_string(max_positions));
  }
  // Segment B (token type 1) starts after [CLS] A [SEP].
  const size_t first_segment = tokenizer.encode_with_specials(text).size();
  std::vector<int64_t> types(input.ids.size(), 0);
  for (size_t i = first_segment; i < input.ids.size(); ++i) types[i] = 1;
  input.input_ids =
      torch::tensor(std::vector<int64_t>(input.ids.begin(), input.ids.end())).unsqueeze(0);
  input.token_types = torch::tensor(types).unsqueeze(0);
  for (const int32_t id : input.ids) input.tokens.push_back(vocab->token(id));
  return input;
}

// A tensor of any shape as nested JSON arrays of numbers.
nlohmann::json to_json(const at::Tensor& values) {
  if (values.dim() == 0) return values.item<double>();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < values.size(0); ++i) rows.push_back(to_json(values[i]));
  return rows;
}

// A fine-tuned model: the head's logits — [outputs] for a sentence task, per token [start, end]
// for spans and one per label for tagging — with the labels they stand for.
int score_finetuned(const po::variables_map& options, const std::string& dir) {
  finetune::FinetunedModel finetuned = finetune::load_finetuned(dir);
  const std::string vocab_override = options["vocab"].as<std::string>();
  const bool lowercase = finetuned.lowercase && !options["cased"].as<bool>();
  const ScoredInput input =
      encode(options, vocab_override.empty() ? finetuned.vocab_path : vocab_override,
             finetuned.config().vocab_size, finetuned.config().max_position_embeddings, lowercase);
  torch::NoGradGuard no_grad;
  finetuned.module().eval();
  const at::Tensor logits =
      finetuned.forward(input.input_ids, input.token_types, torch::ones_like(input.input_ids))[0];
  const nlohmann::json out = {{"model", dir},
                              {"task_type", finetune::to_string(finetuned.type)},
                              {"labels", finetuned.labels.labels()},
                              {"tokens", input.tokens},
                              {"ids", input.ids},
                              {"logits", to_json(logits.to(at::kDouble))}};
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

int run(const po::variables_map& options) {
  const std::string dir = options["model"].as<std::string>();
  if (finetune::is_finetuned(dir)) return score_finetuned(options, dir);
  auto source = train::load_model_source(dir, options["vocab"].as<std::string>());
  if (source.vocab_path.empty()) {
    throw UsageError(source.path + " has no vocab.txt: pass --vocab FILE");
  }
  const ScoredInput input =
      encode(options, source.vocab_path, source.model->config.vocab_size,
             source.model->config.max_position_embeddings, !options["cased"].as<bool>());
  torch::NoGradGuard no_grad;
  source.model->eval();
  const auto logits = source.model->discriminator->forward(input.input_ids, input.token_types,
                                                           torch::ones_like(input.input_ids))[0];
  const auto probabilities = torch::sigmoid(logits);
  const nlohmann::json out = {{"model", source.path},
                              {"tokens", input.tokens},
                              {"ids", input.ids},
                              {"logits", to_json(logits.to(at::kDouble))},
                              {"replaced_prob", to_json(probabilities.to(at::kDouble))}};
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

Command score_command() {
  return {"score",
          "Show a model's outputs on a text: per token, how likely the discriminator thinks it "
          "was replaced; or a fine-tuned model's logits.",
          "--model DIR --text TEXT [--text-pair TEXT] [--vocab FILE]",
          declare,
          {},
          run};
}

}  // namespace electra::cli
