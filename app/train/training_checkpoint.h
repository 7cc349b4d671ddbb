// The trainer's checkpoints (DESIGN.md section 5) in RUN/checkpoints/step-NNNNNNNN/: every rank
// writes its own rank-RRRRR.json (its data position and random-number state); rank 0 writes the
// model files (checkpoint_files.h), optimizer.pt (moments and step count) and train_config.json
// (the resolved configuration); after all ranks are done, rank 0 writes COMPLETE last (step,
// world size, global batch, vocabulary hash) and removes all but the newest K checkpoints.
#pragma once

#include <string>

#include "app/model/electra_model.h"
#include "app/train/optimizer.h"
#include "app/train/train_config.h"
#include "dist/communicator.h"

namespace electra::train {

inline constexpr const char* kOptimizerFile = "optimizer.pt";
inline constexpr const char* kTrainConfigFile = "train_config.json";

// Where training stands: optimiser steps done and the rows of the epoch's stream used so far
// (counted in rows, not batches, so a run may resume with another world size or batch).
struct TrainingPosition {
  long long step = 0;
  long long epoch = 0, epoch_rows = 0;
  // --strategy adversarial: the reward's moving-average baseline (app/train/adversarial.h)
  double reward_baseline = 0;
  long long baseline_updates = 0;
};

struct CheckpointContents {
  model::ElectraModelImpl* model;
  AdamW* optimizer;
  const TrainConfig* config;
  std::string vocab_sha256;
};

// Every rank calls this; it returns on every rank after COMPLETE is written. A rank's failure
// stops all ranks (the checkpoint then stays incomplete and is ignored).
void save_training_checkpoint(dist::Communicator& communicator, const CheckpointContents& what,
                              const TrainingPosition& position);

// Loads DIR/optimizer.pt into `optimizer`; a damaged file throws naming it, with `what_to_do`.
void load_optimizer_file(const std::string& dir, AdamW& optimizer, const std::string& what_to_do);

struct LoadedCheckpoint {
  TrainingPosition position;
  int world_size = 0;          // of the run that wrote it
  long long global_batch = 0;  // its ranks x batch-size x grad-accum
};

// Loads DIR (a complete checkpoint) into the model and optimizer after checking that it matches:
// the same model configuration and vocabulary. The world size and the batch may differ: the data
// position is in rows of the epoch and the random numbers are keyed by (seed, step, row slot), so
// with the same global batch the run continues exactly as it would have; with another global
// batch the next steps take the following rows of the epoch. Throws naming the file and what
// differs.
LoadedCheckpoint load_training_checkpoint(const std::string& dir, int rank, int world,
                                          const CheckpointContents& into);

}  // namespace electra::train
