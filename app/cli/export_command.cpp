// electra export: a checkpoint -> HuggingFace directories (discriminator/ and generator/).
#include <filesystem>
#include <iostream>

#include "app/cli/command.h"
#include "app/model/hf_format.h"
#include "app/train/checkpoint_files.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("checkpoint", po::value<std::string>()->required(),
                        "a checkpoint folder, or a run directory (its latest complete checkpoint)")(
      "out", po::value<std::string>()->required(),
      "output folder: OUT/discriminator and OUT/generator")("overwrite", po::bool_switch(),
                                                            "replace an existing export in OUT");
}

int run(const po::variables_map& options) {
  const std::string checkpoint = train::resolve_checkpoint(options["checkpoint"].as<std::string>());
  const std::string out = options["out"].as<std::string>();
  for (const char* network : {"discriminator", "generator"}) {
    if (std::filesystem::exists(std::filesystem::path(out) / network) &&
        !options["overwrite"].as<bool>()) {
      throw std::runtime_error(out + "/" + network +
                               ": exists; choose another --out or pass --overwrite");
    }
  }
  auto model = train::read_model(checkpoint);
  model::export_hf(*model, (std::filesystem::path(checkpoint) / train::kVocabFile).string(), out);
  std::cout << "exported " << checkpoint << " to " << out << "/discriminator and " << out
            << "/generator (HuggingFace: ElectraForPreTraining.from_pretrained, "
               "ElectraForMaskedLM.from_pretrained)\n";
  return kExitOk;
}

}  // namespace

Command export_command() {
  return {"export",
          "Write a checkpoint as HuggingFace ELECTRA directories (safetensors).",
          "--checkpoint PATH --out DIR",
          declare,
          {},
          run};
}

}  // namespace electra::cli
