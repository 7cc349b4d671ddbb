// The pretraining loop (DESIGN.md sections 3 and 5): owns the model pair, the optimiser, this
// rank's batches, evaluation, logging (rank 0) and checkpoints. Every rank constructs one and
// calls run(); the ranks take the same number of steps and meet only in collectives.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "app/train/adversarial.h"
#include "app/train/batch_staging.h"
#include "app/train/cuda_graph.h"
#include "app/train/electra_step.h"
#include "app/train/evaluation.h"
#include "app/train/gradient_reducer.h"
#include "app/train/metrics_log.h"
#include "app/train/optimizer.h"
#include "app/train/step_batches.h"
#include "app/train/train_config.h"
#include "app/train/training_checkpoint.h"
#include "app/train/two_stage.h"
#include "data/batch_loader.h"
#include "data/vocabulary.h"
#include "dist/communicator.h"

namespace electra::train {

// RUN/FINISHED: written by rank 0 when the run has reached train_steps (removed otherwise).
inline constexpr const char* kFinishedMarker = "FINISHED";

struct InitSource;

enum class ResumeMode {
  kIfPresent,  // resume from OUT's latest complete checkpoint when there is one
  kRequired,   // --resume: fail when there is none
};

class Trainer {
 public:
  // Checks the data, the output directory and (when resuming) the checkpoint, and builds
  // everything; throws with a message naming the problem before any training step.
  // `init` (--init-from, app/train/init_source.h): the weights (and with init_optimizer the
  // optimizer state) to start from when OUT holds no checkpoint of this run's own.
  Trainer(TrainConfig config, dist::Communicator& communicator, ResumeMode resume,
          const InitSource* init = nullptr);
  ~Trainer();

  enum class Outcome {
    kFinished,     // reached train_steps (or --stop-at)
    kInterrupted,  // SIGTERM/SIGUSR1: a checkpoint was written at the step boundary
  };
  // A fresh run's start from the training corpus's counts (--word-rows-init ppmi,
  // --output-bias-init unigram; app/train/corpus_start.h): rank 0 counts, every rank receives
  // it. Collective, after every rank has been built (electra pretrain runs it as a phase of its
  // own, so that a rank that failed to build is not waited for here); run() calls it when it
  // was not. Nothing for a resumed run, a run --init-from a source, or a run that asks for none.
  void start_from_corpus_counts();
  // Trains until config.train_steps, evaluating, logging and checkpointing on the way. Throws,
  // on every rank, when max_nonfinite_steps steps in a row had a non-finite loss or gradient.
  Outcome run();
  // Evaluates on the validation split (all ranks), returns the metrics reduced over ranks.
  EvalMetrics evaluate();

  const TrainingPosition& position() const { return position_; }
  model::ElectraModelImpl& model() { return *model_; }

 private:
  struct StepFigures;  // the losses and norms of one optimiser step
  Outcome run_steps();
  StepFigures train_step();
  // At a step boundary every few steps: reads which steps since the last check were skipped
  // (records them; throws when max_nonfinite_steps came in a row), agrees with the other ranks
  // on stop signals (into figures.stop_signal) and on when to check next.
  void check_boundary(StepFigures& figures);
  // What the device does in a step (what --cuda-graph captures): zero the gradients, forward and
  // backward of each micro-batch, reduce, clip, update; figures get the device scalars.
  void device_step(const std::vector<data::RowBatch>& micro_rows,
                   const std::vector<HostBatchInfo>& infos, StepFigures& figures);
  long long dropout_seed(long long micro) const;  // of micro-batch `micro` of the next step
  void announce_graph();  // once, when the step was captured: with or without the mask
  Objective objective_of_next_step() const;
  bool two_stage() const { return config_.strategy == "two-stage"; }
  bool mlm_only() const { return config_.strategy == "mlm"; }
  // Adds "stage" (the phase of the last step taken) to a record of a two-stage run.
  void tag_stage(nlohmann::json& record) const;
  // The next step's batches from step_batches_, their token counts added over the ranks.
  PreparedStep counted_step_batches();
  Batch to_tensors(const data::RowBatch& rows) const;  // on the CPU
  void log_train(const StepFigures& figures);
  void log_eval(const EvalMetrics& metrics);
  void save();

  TrainConfig config_;
  dist::Communicator& communicator_;
  data::Vocabulary vocab_;
  StepOptions step_options_;
  std::vector<uint8_t> continuation_;  // --whole-word-masking: [token id] 1 for a ## piece
  RewardBaseline reward_baseline_;     // --strategy adversarial
  torch::Device device_{torch::kCPU};
  model::ElectraModel model_{nullptr};
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<GradientReducer> gradients_;  // after model_: its gradients live here
  std::unique_ptr<BatchStager> stager_;
  at::Tensor lr_;                     // the step's learning rate: a float scalar on the device
  std::unique_ptr<StepGraph> graph_;  // --cuda-graph
  std::unique_ptr<StepFigures> graph_figures_;  // what the captured step writes
  bool graph_masks_ = true;  // the captured step's attention takes the padding mask
  bool graph_announced_ = false;
  std::unique_ptr<data::BatchLoader> loader_;
  std::unique_ptr<StepBatches> step_batches_;  // run_steps': the loader's while it lives
  std::optional<PreparedStep> counted_next_;   // the next step's, its counts over the ranks added
  std::unique_ptr<data::EvalBatches> eval_batches_;
  std::unique_ptr<MetricsLog> log_;  // rank 0 only
  TrainingPosition position_;
  long long nonfinite_in_a_row_ = 0;
  // Boundary checks (check_boundary): about every kCheckSeconds of steps, at most every
  // kMaxCheckEvery steps, and before every log, evaluation and checkpoint.
  static constexpr long long kMaxCheckEvery = 16;
  static constexpr double kCheckSeconds = 2.0;
  at::Tensor skipped_;          // [kMaxCheckEvery] float on the device: 1 for a skipped step
  long long window_first_ = 1;  // the step of skipped_[0]
  long long check_every_ = 1;
  std::chrono::steady_clock::time_point last_check_time_;
  long long resumed_from_ = 0;
  bool corpus_start_pending_ = false;  // start_from_corpus_counts() has yet to run
  bool lowercase_ = true;              // the corpus's casing (its manifest)

  // For tokens/s and the ETA between two log lines.
  std::chrono::steady_clock::time_point last_log_time_;
  long long last_log_step_ = 0;
  std::chrono::steady_clock::time_point start_time_;
};

}  // namespace electra::train
