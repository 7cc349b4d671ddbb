#include "app/train/checkpoint_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "app/model/loaded_weights.h"
#include "data/atomic_file.h"
#include "data/debug_detail.h"
#include "data/json_fields.h"

namespace electra::train {

namespace fs = std::filesystem;

std::string checkpoint_path(const std::string& run_dir, long long step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", step);
  return (fs::path(run_dir) / kCheckpointsFolder / name).string();
}

std::vector<std::string> complete_checkpoints(const std::string& run_dir) {
  const fs::path folder = fs::path(run_dir) / kCheckpointsFolder;
  std::error_code error;
  std::vector<std::string> complete;
  if (!fs::is_directory(folder, error)) return complete;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) == 0 && fs::exists(entry.path() / kCompleteMarker)) {
      complete.push_back(entry.path().string());
    }
  }
  std::sort(complete.begin(), complete.end());  // step-NNNNNNNN: by step
  return complete;
}

std::optional<std::string> latest_complete_checkpoint(const std::string& run_dir) {
  const auto complete = complete_checkpoints(run_dir);
  if (complete.empty()) return std::nullopt;
  return complete.back();
}

bool is_imported_checkpoint(const std::string& dir) {
  std::ifstream in(fs::path(dir) / kCompleteMarker);
  const nlohmann::json marker = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return marker.is_object() && marker.contains("source") && !marker.contains("world_size");
}

std::optional<std::string> latest_training_checkpoint(const std::string& run_dir) {
  const auto complete = complete_checkpoints(run_dir);
  for (auto it = complete.rbegin(); it != complete.rend(); ++it) {
    if (!is_imported_checkpoint(*it)) return *it;
  }
  return std::nullopt;
}

std::string resolve_checkpoint(const std::string& path) {
  if (fs::exists(fs::path(path) / kCompleteMarker)) return path;
  if (auto latest = latest_complete_checkpoint(path)) return *latest;
  if (!fs::exists(path)) throw std::runtime_error(path + ": no such checkpoint or run directory");
  throw std::runtime_error(path + ": neither a complete checkpoint (no " + kCompleteMarker +
                           ") nor a run directory with one under " + kCheckpointsFolder + "/");
}

void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  data::AtomicFileWriter writer(path);
  // LibTorch's archive writer cannot fail cleanly (an error in its destructor terminates the
  // process): it is always told that its bytes were taken, and the first failure is rethrown
  // once it is done.
  std::exception_ptr failure;
  archive.save_to([&](const void* data, size_t size) -> size_t {
    if (!failure) {
      try {
        writer.write(data, size);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    return size;
  });
  if (failure) std::rethrow_exception(failure);
  writer.commit();
}

void save_module_on_host(const torch::nn::Module& module,
                         torch::serialize::OutputArchive& archive) {
  for (const auto& parameter : module.named_parameters(/*recurse=*/false)) {
    archive.write(parameter.key(), parameter.value().detach().to(torch::kCPU));
  }
  for (const auto& buffer : module.named_buffers(/*recurse=*/false)) {
    archive.write(buffer.key(), buffer.value().to(torch::kCPU), /*is_buffer=*/true);
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::OutputArchive child_archive(archive.compilation_unit());
    save_module_on_host(*child.value(), child_archive);
    archive.write(child.key(), child_archive);
  }
}

void write_model_files(model::ElectraModelImpl& model, const std::string& vocab_path,
                       const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error(dir + ": cannot create: " + error.message());
  const std::string model_path = (fs::path(dir) / kModelFile).string();
  torch::serialize::OutputArchive archive;
  save_module_on_host(model, archive);
  save_archive_atomically(archive, model_path);
  data::write_file_atomically((fs::path(dir) / kModelConfigFile).string(),
                              model.config.to_json().dump(2) + "\n");
  std::ifstream vocab(vocab_path, std::ios::binary);
  if (!vocab) throw std::runtime_error(vocab_path + ": cannot read the vocabulary");
  const std::string text((std::istreambuf_iterator<char>(vocab)), {});
  data::write_file_atomically((fs::path(dir) / kVocabFile).string(), text);
}

void mark_complete(const std::string& dir, const nlohmann::json& info) {
  data::write_file_atomically((fs::path(dir) / kCompleteMarker).string(), info.dump(2) + "\n");
}

model::ElectraModel read_model(const std::string& dir) {
  const std::string config_path = (fs::path(dir) / kModelConfigFile).string();
  const nlohmann::json config =
      data::read_json_file(config_path, std::string("missing; not a checkpoint folder"));
  model::ElectraModel model(model::ModelConfig::from_json(config, config_path));
  load_model_weights(dir, *model);
  return model;
}

void load_model_weights(const std::string& dir, model::ElectraModelImpl& model) {
  const std::string model_path = (fs::path(dir) / kModelFile).string();
  try {
    const model::ParameterShapes made = model::parameter_shapes(model);  // by the config
    torch::serialize::InputArchive archive;
    archive.load_from(model_path, model.parameters().front().device());  // where the model lives
    model.load(archive);
    if (const std::string change = model::first_shape_change(made, model); !change.empty()) {
      throw std::runtime_error(model_path + ": " + kModelConfigFile +
                               " does not match its weights (" + change +
                               " from the config); the checkpoint was altered");
    }
  } catch (const c10::Error& e) {
    throw std::runtime_error(
        model_path + ": cannot load the model: " +
        (std::string(e.what_without_backtrace()).find("does not match") != std::string::npos ||
                 std::string(e.what_without_backtrace()).find("No such") != std::string::npos
             ? std::string("a weight the config makes is missing; ") + kModelConfigFile +
                   " does not match its weights"
             : std::string("the file is damaged (truncated or not a LibTorch "
                           "archive)")) +
        data::debug_detail(e.what_without_backtrace()));
  }
  model::require_finite_weights(model, model_path);
}

bool CheckpointReadLock::lock(const std::string& dir) {
  if (fd_ >= 0) ::close(fd_), fd_ = -1;
  const int fd = ::open((fs::path(dir) / kCompleteMarker).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // removed
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    ::close(fd);  // a pruner holds it: being removed
    return false;
  }
  struct stat held {};
  if (::fstat(fd, &held) != 0 || held.st_nlink == 0) {  // removed before we locked it
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

CheckpointReadLock::~CheckpointReadLock() {
  if (fd_ >= 0) ::close(fd_);
}

model::ElectraModel read_checkpoint_model(const std::string& path, std::string* checkpoint) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    const std::string dir = resolve_checkpoint(path);
    CheckpointReadLock lock;
    if (lock.lock(dir)) {
      if (checkpoint) *checkpoint = dir;
      return read_model(dir);
    }
    if (dir == path) {
      throw std::runtime_error(dir +
                               ": removed while being read (a running pretrain keeps only its "
                               "newest checkpoints: --keep-checkpoints); name a newer checkpoint "
                               "or the run folder");
    }
  }
  throw std::runtime_error(path +
                           ": its checkpoints keep being removed while being read; try "
                           "again, or name a checkpoint the run keeps");
}

void prune_checkpoints(const std::string& run_dir, long long keep) {
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(fs::path(run_dir) / kCheckpointsFolder)) {
    if (entry.path().filename().string().rfind("step-", 0) == 0) folders.push_back(entry.path());
  }
  std::sort(folders.rbegin(), folders.rend());  // newest first
  long long complete = 0;
  for (const auto& folder : folders) {
    const bool is_complete = fs::exists(folder / kCompleteMarker);
    if (complete >= keep) {
      // Held exclusively while removed: a reader that comes now sees it going.
      const int fd = ::open((folder / kCompleteMarker).c_str(), O_RDONLY | O_CLOEXEC);
      const bool being_read =
          fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
      if (!being_read) {
        std::error_code error;
        fs::remove_all(folder, error);  // best effort: an old checkpoint left harms nothing
      }
      if (fd >= 0) ::close(fd);
    }
    complete += is_complete;
  }
}

}  // namespace electra::train
