// electra inspect: a model's config and parameter counts.
#include <iostream>

#include "app/cli/command.h"
#include "app/train/model_source.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("model", po::value<std::string>()->required(),
                        "an HF ELECTRA directory, a checkpoint or a run directory");
}

int64_t count(const std::vector<torch::Tensor>& parameters) {
  int64_t n = 0;
  for (const auto& p : parameters) n += p.numel();
  return n;
}

int run(const po::variables_map& options) {
  const auto source = train::load_model_source(options["model"].as<std::string>(), "");
  auto& model = *source.model;
  // Each network's own parameters; the embeddings apart (shared, or one table each).
  const int64_t embeddings = count(model.embeddings->parameters());
  const int64_t generator_embeddings =
      model.generator_embeddings ? count(model.generator_embeddings->parameters()) : 0;
  const int64_t generator = count(model.generator->parameters());
  const int64_t discriminator = count(model.discriminator->parameters());
  nlohmann::json parameters = {
      {"generator", generator},
      {"discriminator", discriminator},
      {"total", embeddings + generator_embeddings + generator + discriminator},
      {"discriminator_with_embeddings", embeddings + discriminator}};
  if (model.config.share_embeddings) {
    parameters["shared_embeddings"] = embeddings;
  } else {
    parameters["discriminator_embeddings"] = embeddings;
    parameters["generator_embeddings"] = generator_embeddings;
  }
  const nlohmann::json out = {{"model", source.path},
                              {"kind", source.kind},
                              {"has_trained_generator", source.has_generator},
                              {"config", model.config.to_json()},
                              {"parameters", parameters}};
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

Command inspect_command() {
  return {"inspect",
          "Print a model's config and the parameter counts of its parts.",
          "--model DIR",
          declare,
          {},
          run};
}

}  // namespace electra::cli
