// A fine-tune stopped by SIGTERM, SIGUSR1 or Ctrl-C (app/train/stop_signals.h) leaves its state in
// OUT/resume/: the weights and optimizer moments after the last whole step and where it was
// (epoch, step, the best epoch so far, the running figures). The same command then continues from
// there and ends as an uninterrupted run would (each epoch's order and each step's dropout are
// seeded by epoch and step); the folder goes when the run ends.
#pragma once

#include <torch/nn/module.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/train/optimizer.h"
#include "dist/communicator.h"

namespace electra::finetune {

struct FinetuneConfig;

inline constexpr const char* kResumeFolder = "resume";

// Where a fine-tune is: the loop's position and what it has gathered so far.
struct FinetuneProgress {
  long long epoch = 1, step_in_epoch = 0, step = 0;  // the next step to run
  double epoch_loss_sum = 0;                         // the losses of the epoch's steps so far
  double best = -1e300;
  long long best_epoch = 0;
  nlohmann::json best_metrics;
  double train_seconds = 0, dev_seconds = 0;
  long long dev_examples = 0, dev_rows = 0;
};

// Thrown (on every rank) after the state was saved; the command exits with kExitInterrupted.
struct FinetuneInterrupted {
  int signal;
  long long epoch, step_in_epoch;
};

// What must be the same for a resume to continue the same run: the options and the training
// rows they made (ROWS, STEPS_PER_EPOCH).
nlohmann::json resume_fingerprint(const FinetuneConfig& config, int ranks, long long rows,
                                  long long steps_per_epoch);

// Writes OUT/resume/ (staged in OUT/resume.new/, then put in place by renames).
void save_resume(const std::string& out_dir, const nlohmann::json& fingerprint,
                 const FinetuneProgress& progress, const torch::nn::Module& model,
                 const train::AdamW& optimizer);

// The saved position in OUT/resume/ when there is one: read by rank 0 and sent to every rank, so
// that all take the same path. Throws naming the option that differs from the run that wrote it.
std::optional<FinetuneProgress> read_resume_state(const std::string& out_dir,
                                                  const nlohmann::json& fingerprint,
                                                  dist::Communicator& communicator);
// The saved weights into MODEL: before the optimizer is made over them (loading replaces the
// parameters' storage, which the optimizer's flat buffers must then take over).
void load_resume_weights(const std::string& out_dir, torch::nn::Module& model);
void load_resume_optimizer(const std::string& out_dir, train::AdamW& optimizer);

// Whether OUT holds a saved state to continue from.
bool has_resume(const std::string& out_dir);

// FINAL replaced by the complete folder STAGING: FINAL -> FINAL.old, STAGING -> FINAL, FINAL.old
// removed, so that a stop at any moment leaves one whole copy under one of the names.
void replace_folder(const std::string& staging, const std::string& final_dir);
// After such a stop: FINAL missing but STAGING complete (the renames had begun) -> renamed.
void recover_replaced_folder(const std::string& staging, const std::string& final_dir);

}  // namespace electra::finetune
