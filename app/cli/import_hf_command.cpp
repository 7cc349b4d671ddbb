// electra import-hf: a HuggingFace ELECTRA pair -> a native checkpoint in a run directory, to
// continue pre-training from published weights or to fine-tune them.
#include <filesystem>
#include <iostream>

#include "app/cli/command.h"
#include "app/model/hf_format.h"
#include "app/train/checkpoint_files.h"
#include "app/train/model_source.h"
#include "data/output_path.h"
#include "data/vocabulary.h"

namespace electra::cli {
namespace {

void declare(po::options_description& options) {
  options.add_options()("model", po::value<std::string>()->required(),
                        "an HF ELECTRA directory (discriminator/ and generator/, or one model)")(
      "out", po::value<std::string>()->required(), "run directory to create the checkpoint in")(
      "vocab", po::value<std::string>()->default_value(""),
      "vocab.txt, when the HF directory has none")(
      "overwrite", po::bool_switch(),
      "replace an earlier import in OUT (one a failed or killed import-hf left, too)");
}

int run(const po::variables_map& options) {
  const std::string out = options["out"].as<std::string>();
  const std::string target = train::checkpoint_path(out, 0);
  data::check_output_folder(out, "--out");
  auto imported = model::import_hf(options["model"].as<std::string>());
  std::string vocab = options["vocab"].as<std::string>();
  if (vocab.empty()) vocab = imported.vocab_path;
  if (vocab.empty()) throw UsageError("the HF directory has no vocab.txt: pass --vocab FILE");
  train::check_vocabulary(vocab, imported.model->config.vocab_size,
                          options["model"].as<std::string>());
  const auto lock = data::OutputLock::folder(out, "--out", "electra import-hf");
  if (std::filesystem::exists(std::filesystem::path(out) / train::kCheckpointsFolder) &&
      data::read_output_record(out).command != "import-hf") {
    throw std::runtime_error("--out " + out + ": holds a run (" + train::kCheckpointsFolder +
                             "/); import into a new run directory");
  }
  // Only what import-hf wrote is replaced (with --overwrite): a run pretrain continued from
  // the import holds pretrain's files, which are refused.
  auto record = data::claim_output_folder(
      out, "import-hf", "an imported model",
      {{options["model"].as<std::string>(), "--model"}, {vocab, "--vocab"}},
      options["overwrite"].as<bool>());
  train::write_model_files(*imported.model, vocab, target);
  train::mark_complete(target, {{"step", 0},
                                {"source", options["model"].as<std::string>()},
                                {"has_trained_generator", imported.has_generator}});
  record.complete();
  std::cout << "imported " << options["model"].as<std::string>() << " into " << target
            << (imported.has_generator ? "" : " (no generator in the source: initialised fresh)")
            << "\n";
  return kExitOk;
}

}  // namespace

Command import_hf_command() {
  return {"import-hf",
          "Turn a HuggingFace ELECTRA directory into a native checkpoint.",
          "--model HF_DIR --out RUN_DIR",
          declare,
          {},
          run};
}

}  // namespace electra::cli
