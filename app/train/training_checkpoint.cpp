#include "app/train/training_checkpoint.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "app/train/checkpoint_files.h"
#include "data/atomic_file.h"
#include "data/debug_detail.h"
#include "data/json_fields.h"

namespace electra::train {

namespace fs = std::filesystem;

namespace {

std::string rank_file(const std::string& dir, int rank) {
  char name[32];
  std::snprintf(name, sizeof name, "rank-%05d.json", rank);
  return (fs::path(dir) / name).string();
}

long long global_batch(const TrainConfig& config, int world) {
  return config.batch_size * config.grad_accum * world;
}

// For tests: that rank stops here, half-way through the checkpoint of that step (its own state
// written, the model not yet), for the test to cut, freeze or kill its host
// (ELECTRA_INJECT_CHECKPOINT_STALL=RANK:STEP; tests/multihost).
void stall_if_injected(int rank, long long step) {
  const char* value = std::getenv("ELECTRA_INJECT_CHECKPOINT_STALL");
  int stall_rank = -1;
  long long stall_step = -1;
  if (!value || std::sscanf(value, "%d:%lld", &stall_rank, &stall_step) != 2) return;
  if (stall_rank != rank || stall_step != step) return;
  std::fprintf(stderr, "rank %d: stalled in the checkpoint of step %lld (%s)\n", rank, step,
               "ELECTRA_INJECT_CHECKPOINT_STALL");
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

}  // namespace

void save_training_checkpoint(dist::Communicator& communicator, const CheckpointContents& what,
                              const TrainingPosition& position) {
  const std::string dir = checkpoint_path(what.config->out_dir, position.step);
  bool ok = true;
  std::string error;
  try {
    fs::create_directories(dir);
    const nlohmann::json rank_state = {
        {"rank", communicator.rank()},
        {"world_size", communicator.size()},
        {"step", position.step},
        {"epoch", position.epoch},
        {"epoch_rows", position.epoch_rows},
        // The step's random numbers are drawn from generators seeded by (seed, step, rank, row):
        // the seed and the step are the whole random-number state.
        {"rng", {{"seed", what.config->seed}, {"step", position.step}}}};
    data::write_file_atomically(rank_file(dir, communicator.rank()), rank_state.dump(2) + "\n");
    stall_if_injected(communicator.rank(), position.step);
    if (communicator.is_root()) {
      write_model_files(*what.model, what.config->vocab_path, dir);
      const std::string optimizer_path = (fs::path(dir) / kOptimizerFile).string();
      torch::serialize::OutputArchive archive;
      what.optimizer->save(archive);
      save_archive_atomically(archive, optimizer_path);
      data::write_file_atomically((fs::path(dir) / kTrainConfigFile).string(),
                                  what.config->to_json().dump(2) + "\n");
    }
  } catch (const std::exception& e) {
    ok = false, error = e.what();
  }
  if (!ok) {
    std::fprintf(stderr, "electra pretrain: %scheckpoint %s: %s\n",
                 dist::rank_prefix(communicator).c_str(), dir.c_str(), error.c_str());
  }
  // For tests: the process dies here, in the middle of the checkpoint of that step, as a node
  // that fails or a job killed mid-write would (ELECTRA_INJECT_CHECKPOINT_CRASH=STEP).
  if (const char* crash = std::getenv("ELECTRA_INJECT_CHECKPOINT_CRASH")) {
    if (std::atoll(crash) == position.step) std::_Exit(137);
  }
  dist::NamedWaits waits(communicator,
                         "the checkpoint agreement of step " + std::to_string(position.step));
  if (!communicator.all_ok(ok)) {
    // The incomplete folder is never loaded; removing it gives back the space a full disk needs.
    std::error_code ignored;
    if (communicator.is_root()) fs::remove_all(dir, ignored);
    throw std::runtime_error("checkpoint " + dir +
                             " failed on a rank (see above); the previous checkpoint is kept");
  }
  ok = true;
  if (communicator.is_root()) {
    try {
      mark_complete(dir, {{"step", position.step},
                          {"epoch", position.epoch},
                          {"epoch_rows", position.epoch_rows},
                          {"reward_baseline", position.reward_baseline},
                          {"baseline_updates", position.baseline_updates},
                          {"world_size", communicator.size()},
                          {"global_batch", global_batch(*what.config, communicator.size())},
                          {"vocab_sha256", what.vocab_sha256}});
      prune_checkpoints(what.config->out_dir, what.config->keep_checkpoints);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "electra pretrain: checkpoint %s: %s\n", dir.c_str(), e.what());
      ok = false;
    }
  }
  if (!communicator.all_ok(ok))
    throw std::runtime_error("checkpoint " + dir + " was not completed");
}

void load_optimizer_file(const std::string& dir, AdamW& optimizer, const std::string& what_to_do) {
  const std::string path = (fs::path(dir) / kOptimizerFile).string();
  try {
    torch::serialize::InputArchive archive;
    // Onto the optimizer's device, wherever the writer's was: a GPU host's checkpoint resumes on
    // a CPU host, and no rank makes a context on another rank's GPU.
    archive.load_from(path, optimizer.device());
    optimizer.load(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path +
                             ": cannot load the optimizer state (the file is truncated or not a "
                             "LibTorch archive); " +
                             what_to_do + data::debug_detail(e.what_without_backtrace()));
  }
}

LoadedCheckpoint load_training_checkpoint(const std::string& dir, int rank, int world,
                                          const CheckpointContents& into) {
  const std::string marker_path = (fs::path(dir) / kCompleteMarker).string();
  const nlohmann::json marker = data::read_json_file(marker_path, "missing");
  const auto field = [&](const char* name) {
    return data::json_field<long long>(marker, name, marker_path);
  };
  if (data::json_field<std::string>(marker, "vocab_sha256", marker_path) != into.vocab_sha256) {
    throw std::runtime_error(dir +
                             ": the checkpoint was trained with another vocabulary; pass "
                             "its --vocab or start a new --out directory");
  }
  // Two-stage and mlm train models of one shape: only the strategy the run recorded tells them
  // apart (resumed as the other, one would train the network the other froze).
  const std::string train_config_path = (fs::path(dir) / kTrainConfigFile).string();
  if (into.config && fs::exists(train_config_path)) {
    const nlohmann::json saved = data::read_json_file(train_config_path, "missing");
    const std::string strategy =
        saved.is_object() && saved.contains("strategy") && saved["strategy"].is_string()
            ? saved["strategy"].get<std::string>()
            : "joint";
    if (strategy != into.config->strategy) {
      throw std::runtime_error(dir + ": the run was trained with --strategy " + strategy +
                               ", now --strategy " + into.config->strategy +
                               "; resume with --strategy " + strategy + " or use another --out");
    }
  }
  const std::string config_path = (fs::path(dir) / kModelConfigFile).string();
  // Read as a config first: fields added since the checkpoint was written take their defaults.
  const nlohmann::json saved_model =
      model::ModelConfig::from_json(data::read_json_file(config_path, "missing"), config_path)
          .to_json();
  if (saved_model != into.model->config.to_json()) {
    for (const auto& patch : nlohmann::json::diff(saved_model, into.model->config.to_json())) {
      throw std::runtime_error(config_path + ": the checkpoint's model differs at " +
                               patch.at("path").get<std::string>() +
                               "; resume with the same --model settings or use another --out");
    }
  }
  load_model_weights(dir, *into.model);  // the configs match (checked above)
  load_optimizer_file(dir, *into.optimizer,
                      "the checkpoint is damaged: resume from an earlier one (remove this step's "
                      "folder)");
  LoadedCheckpoint loaded;
  loaded.world_size = int(field("world_size"));
  loaded.global_batch = field("global_batch");
  loaded.position = {field("step"), field("epoch"), 0};
  if (marker.contains("baseline_updates")) {
    loaded.position.baseline_updates = field("baseline_updates");
    loaded.position.reward_baseline =
        data::json_field<double>(marker, "reward_baseline", marker_path);
  }
  if (marker.contains("epoch_rows")) {
    loaded.position.epoch_rows = field("epoch_rows");
  } else {  // written before positions were rows: global micro-batches of world x batch-size
    const std::string saved_config = (fs::path(dir) / kTrainConfigFile).string();
    loaded.position.epoch_rows =
        field("next_batch") * loaded.world_size *
        data::json_field<long long>(data::read_json_file(saved_config, "missing"), "batch_size",
                                    saved_config);
  }
  // Under the same world size, each rank's own record must agree with the marker.
  if (loaded.world_size == world && marker.contains("epoch_rows")) {
    const std::string path = rank_file(dir, rank);
    const nlohmann::json mine = data::read_json_file(path, "missing; the checkpoint is damaged");
    if (data::json_field<long long>(mine, "epoch_rows", path) != loaded.position.epoch_rows ||
        data::json_field<long long>(mine, "epoch", path) != loaded.position.epoch) {
      throw std::runtime_error(path + ": data position differs from " + marker_path +
                               "; the checkpoint is damaged");
    }
  }
  return loaded;
}

}  // namespace electra::train
