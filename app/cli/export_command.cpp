// electra export: a checkpoint -> HuggingFace directories (discriminator/ and generator/).
#include <filesystem>
#include <iostream>

#include "app/cli/command.h"
#include "app/model/hf_format.h"
#include "app/model/sequence_classifier.h"
#include "app/train/checkpoint_files.h"
#include "app/train/finetuned_model.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("checkpoint", po::value<std::string>()->required(),
                        "a checkpoint folder, a run directory (its latest complete checkpoint), "
                        "or a fine-tuned model (electra finetune's --out)")(
      "out", po::value<std::string>()->required(),
      "output folder: OUT/discriminator and OUT/generator")("overwrite", po::bool_switch(),
                                                            "replace an existing export in OUT");
}

// A fine-tuned model (electra finetune's --out or its best/) -> OUT for
// ElectraForSequenceClassification.
int export_finetuned(std::string dir, const std::string& out, bool overwrite) {
  if (!std::filesystem::exists(std::filesystem::path(dir) / train::kTaskFile)) {
    dir = (std::filesystem::path(dir) / "best").string();
  }
  if (std::filesystem::exists(std::filesystem::path(out) / "config.json") && !overwrite) {
    throw std::runtime_error(out + ": holds an export; choose another --out or pass --overwrite");
  }
  train::FinetunedModel finetuned = train::load_finetuned(dir);
  model::export_hf_classifier(*finetuned.model, finetuned.labels.labels(),
                              finetuned.type == train::TaskType::kRegression, finetuned.vocab_path,
                              out);
  std::cout << "exported " << dir << " to " << out
            << " (HuggingFace: ElectraForSequenceClassification.from_pretrained)\n";
  return kExitOk;
}

int run(const po::variables_map& options) {
  const std::string given = options["checkpoint"].as<std::string>();
  const std::string out = options["out"].as<std::string>();
  if (std::filesystem::exists(std::filesystem::path(given) / train::kTaskFile) ||
      std::filesystem::exists(std::filesystem::path(given) / "best" / train::kTaskFile)) {
    return export_finetuned(given, out, options["overwrite"].as<bool>());
  }
  const std::string checkpoint = train::resolve_checkpoint(given);
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
