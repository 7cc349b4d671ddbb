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
  // Each network's own parameters: the shared embeddings are counted once, apart.
  const int64_t shared = count(model.embeddings->parameters());
  const int64_t generator = count(model.generator->parameters());
  const int64_t discriminator = count(model.discriminator->parameters());
  const nlohmann::json out = {{"model", source.path},
                              {"kind", source.kind},
                              {"has_trained_generator", source.has_generator},
                              {"config", model.config.to_json()},
                              {"parameters",
                               {{"shared_embeddings", shared},
                                {"generator", generator},
                                {"discriminator", discriminator},
                                {"total", shared + generator + discriminator},
                                {"discriminator_with_embeddings", shared + discriminator}}}};
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
