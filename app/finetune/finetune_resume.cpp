#include "app/finetune/finetune_resume.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cmath>
#include <filesystem>

#include "app/finetune/finetuner.h"
#include "app/model/loaded_weights.h"
#include "app/train/checkpoint_files.h"
#include "data/atomic_file.h"
#include "data/debug_detail.h"
#include "data/json_fields.h"
#include "data/output_record.h"

namespace electra::finetune {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStateFile = "state.json";
constexpr const char* kModelFile = "model.pt";
constexpr const char* kOptimizerFile = "optimizer.pt";

nlohmann::json progress_json(const FinetuneProgress& p) {
  return {{"epoch", p.epoch},
          {"step_in_epoch", p.step_in_epoch},
          {"step", p.step},
          {"epoch_loss_sum", p.epoch_loss_sum},
          {"best", p.best},
          {"best_epoch", p.best_epoch},
          {"best_metrics", p.best_metrics},
          {"train_seconds", p.train_seconds},
          {"dev_seconds", p.dev_seconds},
          {"dev_examples", p.dev_examples},
          {"dev_rows", p.dev_rows}};
}

// A figure that may be NaN or inf (JSON writes them as null).
double figure(const nlohmann::json& j, const char* name, const std::string& where) {
  if (j.is_object() && j.contains(name) && j.at(name).is_null()) return std::nan("");
  return data::json_field<double>(j, name, where);
}

FinetuneProgress progress_from(const nlohmann::json& j, const std::string& where) {
  FinetuneProgress p;
  p.epoch = data::json_field<long long>(j, "epoch", where);
  p.step_in_epoch = data::json_field<long long>(j, "step_in_epoch", where);
  p.step = data::json_field<long long>(j, "step", where);
  p.epoch_loss_sum = figure(j, "epoch_loss_sum", where);
  p.best = figure(j, "best", where);
  p.best_epoch = data::json_field<long long>(j, "best_epoch", where);
  p.best_metrics = data::json_field<nlohmann::json>(j, "best_metrics", where);
  p.train_seconds = figure(j, "train_seconds", where);
  p.dev_seconds = figure(j, "dev_seconds", where);
  p.dev_examples = data::json_field<long long>(j, "dev_examples", where);
  p.dev_rows = data::json_field<long long>(j, "dev_rows", where);
  return p;
}

}  // namespace

nlohmann::json resume_fingerprint(const FinetuneConfig& c, int ranks, long long rows,
                                  long long steps_per_epoch) {
  return {{"model", c.model_dir},
          {"train", c.train_path},
          {"dev", c.dev_path},
          {"format", c.format},
          {"task-type", c.task_type},
          {"epochs", c.epochs},
          {"batch-size", c.batch_size},
          {"max-seq-len", c.max_seq_len},
          {"lr", c.learning_rate},
          {"layer-decay", c.layer_decay},
          {"warmup", c.warmup_fraction},
          {"weight-decay", c.weight_decay},
          {"seed", std::to_string(c.seed)},
          {"cased", !c.lowercase},
          {"doc-stride", c.doc_stride},
          {"max-query-len", c.max_query_len},
          {"tag-column", c.tag_column},
          {"tag-format", c.tag_format},
          {"random-init", c.random_init},
          {"metric", c.selection_metric},
          {"n-best", c.n_best},
          {"max-answer-len", c.max_answer_len},
          {"device", c.device},
          {"ranks", ranks},
          {"training rows", rows},
          {"steps per epoch", steps_per_epoch},
          {"reinit-layers", c.reinit_layers}};
}

bool has_resume(const std::string& out_dir) {
  std::error_code error;
  return fs::exists(fs::path(out_dir) / kResumeFolder / kStateFile, error);
}

void save_resume(const std::string& out_dir, const nlohmann::json& fingerprint,
                 const FinetuneProgress& progress, const torch::nn::Module& model,
                 const train::AdamW& optimizer) {
  const fs::path final_dir = fs::path(out_dir) / kResumeFolder;
  const fs::path staging = fs::path(out_dir) / (std::string(kResumeFolder) + ".new");
  fs::remove_all(staging);
  fs::create_directories(staging);
  {
    torch::serialize::OutputArchive archive;
    train::save_module_on_host(model, archive);
    train::save_archive_atomically(archive, (staging / kModelFile).string());
  }
  {
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    train::save_archive_atomically(archive, (staging / kOptimizerFile).string());
  }
  // Written last: a folder without it is not a state to resume from.
  data::write_file_atomically(
      (staging / kStateFile).string(),
      nlohmann::json{{"options", fingerprint}, {"progress", progress_json(progress)}}.dump(2) +
          "\n");
  replace_folder(staging.string(), final_dir.string());
}

void replace_folder(const std::string& staging, const std::string& final_dir) {
  const std::string old = final_dir + ".old";
  fs::remove_all(old);
  if (fs::exists(final_dir)) {
    data::note_moved(final_dir, old);
    fs::rename(final_dir, old);
  }
  data::note_moved(staging, final_dir);
  fs::rename(staging, final_dir);
  fs::remove_all(old);
}

void recover_replaced_folder(const std::string& staging, const std::string& final_dir) {
  std::error_code error;
  if (!fs::exists(final_dir, error) && fs::exists(final_dir + ".old", error) &&
      fs::exists(staging, error)) {
    data::note_moved(staging, final_dir);
    fs::rename(staging, final_dir);
    fs::remove_all(final_dir + ".old", error);
  }
}

std::optional<FinetuneProgress> read_resume_state(const std::string& out_dir,
                                                  const nlohmann::json& fingerprint,
                                                  dist::Communicator& communicator) {
  std::string progress_text;  // "" on rank 0: no state; on the others: rank 0's answer
  if (communicator.is_root() && has_resume(out_dir)) {
    const std::string state_path = (fs::path(out_dir) / kResumeFolder / kStateFile).string();
    nlohmann::json state;
    try {
      state = data::read_json_file(state_path, "missing");
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(std::string(e.what()) + " (or pass --overwrite to start again)");
    }
    const nlohmann::json saved = data::json_field<nlohmann::json>(state, "options", state_path);
    // Options that came after the first resume states: what a state without them ran with.
    static const nlohmann::json kLaterOptions = {{"reinit-layers", 0}};
    for (const auto& [name, value] : fingerprint.items()) {
      const nlohmann::json ran = saved.contains(name)           ? saved[name]
                                 : kLaterOptions.contains(name) ? kLaterOptions[name]
                                                                : nlohmann::json();
      if (ran.is_null() || ran != value) {
        const bool option = name.find(' ') == std::string::npos && name != "ranks";
        throw std::runtime_error(
            state_path + ": the interrupted fine-tune ran with " + (option ? "--" : "") + name +
            " " + (ran.is_null() ? std::string("(unset)") : ran.dump()) + ", now " + value.dump() +
            "; resume with its settings, or pass --overwrite to start "
            "again");
      }
    }
    const nlohmann::json progress = data::json_field<nlohmann::json>(state, "progress", state_path);
    progress_from(progress, state_path);  // checked here, where the file is named
    progress_text = progress.dump();
  }
  if (communicator.size() > 1) progress_text = communicator.broadcast_from_root(progress_text);
  if (progress_text.empty()) return std::nullopt;
  return progress_from(nlohmann::json::parse(progress_text), "the resume state");
}

namespace {

template <typename Target>
void load_archive(const fs::path& path, const char* what, Target& target,
                  const c10::Device& device) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), device);
    target.load(archive);
  } catch (const std::exception& e) {  // LibTorch's, or the optimizer's "another shape"
    throw std::runtime_error(path.string() + ": cannot load the saved " + what +
                             " (the file is damaged); pass --overwrite to start again" +
                             data::debug_detail(e.what()));
  }
}

}  // namespace

void load_resume_weights(const std::string& out_dir, torch::nn::Module& model) {
  const fs::path path = fs::path(out_dir) / kResumeFolder / kModelFile;
  const model::ParameterShapes made = model::parameter_shapes(model);
  load_archive(path, "weights", model, model.parameters().front().device());
  if (const std::string change = model::first_shape_change(made, model); !change.empty()) {
    throw std::runtime_error(path.string() + ": " + change + "; pass --overwrite to start again");
  }
  model::require_finite_weights(model, path.string());
}

void load_resume_optimizer(const std::string& out_dir, train::AdamW& optimizer) {
  load_archive(fs::path(out_dir) / kResumeFolder / kOptimizerFile, "optimizer state", optimizer,
               c10::Device(c10::kCPU));
}

}  // namespace electra::finetune
