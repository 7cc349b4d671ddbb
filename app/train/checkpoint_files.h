// Where checkpoints live and how a model is stored in one. A run directory holds
// checkpoints/step-NNNNNNNN/ folders; one is complete when its COMPLETE marker exists (written
// last, DESIGN.md section 5). A checkpoint holds the model (model.pt, a LibTorch archive), its
// resolved config (model_config.json) and its vocabulary (vocab.txt); the trainer adds its state.
#pragma once

#include <torch/serialize/output-archive.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/model/electra_model.h"

namespace electra::train {

inline constexpr const char* kCheckpointsFolder = "checkpoints";
inline constexpr const char* kCompleteMarker = "COMPLETE";
inline constexpr const char* kModelFile = "model.pt";
inline constexpr const char* kModelConfigFile = "model_config.json";
inline constexpr const char* kVocabFile = "vocab.txt";

// RUN/checkpoints/step-00000100
std::string checkpoint_path(const std::string& run_dir, long long step);
// The complete checkpoints of a run directory, oldest first.
std::vector<std::string> complete_checkpoints(const std::string& run_dir);
// The complete checkpoint with the highest step, if any.
std::optional<std::string> latest_complete_checkpoint(const std::string& run_dir);
// True for a checkpoint written by electra import-hf (model files only, no training state: its
// COMPLETE marker names the source instead of a world size).
bool is_imported_checkpoint(const std::string& dir);
// The complete checkpoint with the highest step that training wrote (not an import), if any.
std::optional<std::string> latest_training_checkpoint(const std::string& run_dir);
// PATH itself when it is a complete checkpoint, else the latest complete checkpoint of the run
// directory PATH; throws naming PATH and what to do otherwise.
std::string resolve_checkpoint(const std::string& path);

// Writes a LibTorch archive to PATH through data::AtomicFileWriter: a failed write (disk full,
// file-size limit) throws naming PATH and the reason and leaves what PATH held.
void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path);

// Writes MODULE's parameters and buffers into ARCHIVE under the names Module::save gives them
// (Module::load reads it), each copied to the host: the file says "cpu" whatever device trained
// the model, and the module stays where it is (moving it would reset its gradient accumulators
// and with them the gradient reducer's hooks).
void save_module_on_host(const torch::nn::Module& module, torch::serialize::OutputArchive& archive);

// Writes model.pt, model_config.json and vocab.txt into DIR (each through a temporary name).
void write_model_files(model::ElectraModelImpl& model, const std::string& vocab_path,
                       const std::string& dir);
// Marks DIR complete: call after every file of the checkpoint is in place.
void mark_complete(const std::string& dir, const nlohmann::json& info);
// The model of a checkpoint folder (written by write_model_files).
model::ElectraModel read_model(const std::string& dir);

// A running pretrain rotates its checkpoints (--keep-checkpoints) while other commands read them.
// A reader holds a shared lock on the checkpoint's COMPLETE marker; prune_checkpoints leaves a
// checkpoint so held for its next rotation.
class CheckpointReadLock {
 public:
  // Locks checkpoint DIR for reading; false (no lock) when DIR was removed or is being removed.
  bool lock(const std::string& dir);
  CheckpointReadLock() = default;
  CheckpointReadLock(const CheckpointReadLock&) = delete;
  CheckpointReadLock& operator=(const CheckpointReadLock&) = delete;
  ~CheckpointReadLock();

 private:
  int fd_ = -1;
};

// The model of the checkpoint PATH names (resolve_checkpoint: a checkpoint, or a run's latest
// complete one), read under a CheckpointReadLock; a run's checkpoint rotated away meanwhile is
// replaced by the run's newer one. Sets *CHECKPOINT to the folder read.
model::ElectraModel read_checkpoint_model(const std::string& path, std::string* checkpoint);

// Removes all complete checkpoints of RUN_DIR but the newest KEEP, and incomplete ones older
// than those; one a reader holds (CheckpointReadLock) is left for the next call.
void prune_checkpoints(const std::string& run_dir, long long keep);
// Loads DIR's model.pt into `model`, which must have DIR's configuration.
void load_model_weights(const std::string& dir, model::ElectraModelImpl& model);

}  // namespace electra::train
