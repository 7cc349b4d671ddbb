// electra export: a checkpoint -> HuggingFace directories (discriminator/ and generator/).
#include <filesystem>
#include <iostream>

#include "app/cli/command.h"
#include "app/finetune/finetuned_model.h"
#include "app/model/hf_format.h"
#include "app/model/sequence_classifier.h"
#include "app/train/checkpoint_files.h"
#include "data/atomic_file.h"
#include "data/output_path.h"

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
// ElectraForSequenceClassification, ElectraForQuestionAnswering or ElectraForTokenClassification.
int export_finetuned(const std::string& dir, const std::string& out, bool overwrite) {
  std::error_code error;
  if (std::filesystem::weakly_canonical(out, error) ==
      std::filesystem::weakly_canonical(dir, error)) {
    throw std::runtime_error("--out " + out +
                             ": is the model being exported; choose another --out");
  }
  data::check_output_folder(out, "--out");
  // Read whole before anything in --out is replaced.
  finetune::FinetunedModel finetuned = finetune::load_finetuned(dir);
  const auto lock = data::OutputLock::folder(out, "--out", "electra export");
  auto record =
      data::claim_output_folder(out, "export", "an export", {{dir, "--checkpoint"}}, overwrite);
  std::string architecture = "ElectraForSequenceClassification";
  if (finetuned.classifier) {
    model::export_hf_classifier(*finetuned.classifier, finetuned.labels.labels(),
                                finetuned.type == finetune::TaskType::kRegression,
                                finetuned.vocab_path, out);
  } else {
    finetune::export_hf_position_model(*finetuned.positions, finetuned.labels.labels(),
                                       finetuned.vocab_path, out);
    architecture = finetuned.type == finetune::TaskType::kSpan ? "ElectraForQuestionAnswering"
                                                               : "ElectraForTokenClassification";
  }
  // The settings HF's config has no place for (windows, casing, the v2.0 null threshold), so
  // `electra evaluate` on OUT predicts as on DIR; transformers ignores the file.
  data::write_file_atomically((std::filesystem::path(out) / finetune::kTaskFile).string(),
                              finetune::task_json(finetuned).dump(2) + "\n");
  record.complete();
  std::cout << "exported " << dir << " to " << out << " (HuggingFace: " << architecture
            << ".from_pretrained)\n";
  return kExitOk;
}

int run(const po::variables_map& options) {
  const std::string given = options["checkpoint"].as<std::string>();
  const std::string out = options["out"].as<std::string>();
  if (finetune::is_finetuned(given)) {
    return export_finetuned(given, out, options["overwrite"].as<bool>());
  }
  data::check_output_folder(out, "--out");
  std::string checkpoint;
  auto model = train::read_checkpoint_model(given, &checkpoint);
  const auto lock = data::OutputLock::folder(out, "--out", "electra export");
  auto record = data::claim_output_folder(
      out, "export", "an export", {{checkpoint, "--checkpoint"}}, options["overwrite"].as<bool>());
  model::export_hf(*model, (std::filesystem::path(checkpoint) / train::kVocabFile).string(), out);
  record.complete();  // an import-hf of OUT tells a killed export from a discriminator-only one
  std::cout << "exported " << checkpoint << " to " << out << "/discriminator and " << out
            << "/generator (HuggingFace: ElectraForPreTraining.from_pretrained, "
               "ElectraForMaskedLM.from_pretrained)\n";
  if (model->config.local_head_slope > 0) {
    std::cerr << "note: local_head_slope " << model->config.local_head_slope
              << " (local_head_centre " << model->config.local_head_centre
              << ") is electra's alone (config.json keeps it): HuggingFace's ELECTRA loads these "
                 "weights without the local heads' bias, so its outputs differ from electra's\n";
  }
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
