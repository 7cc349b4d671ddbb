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

// Where training stands: optimiser steps done and the next global micro-batch of the data.
struct TrainingPosition {
  long long step = 0;
  long long epoch = 0, next_batch = 0;
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

// Loads DIR (a complete checkpoint) into the model and optimizer after checking that it matches:
// the same model configuration, vocabulary and global batch (world x batch x grad_accum; the data
// position counts global batches, so the number of ranks may change when the global batch does
// not). Throws naming the file and what differs.
TrainingPosition load_training_checkpoint(const std::string& dir, int rank, int world,
                                          const CheckpointContents& into);

}  // namespace electra::train
