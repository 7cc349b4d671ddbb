// Evaluation sweeps: every (checkpoint, task, learning rate, seed) cell fine-tuned and evaluated
// (app/finetune/finetuner.h), the cells handed to the MPI ranks as they become free, the largest
// first (each alone; app/finetune/sweep_schedule.h), results gathered to rank 0 into
// OUT/results.csv (one row per cell) and OUT/summary.md (per checkpoint and task: the median over
// seeds of each learning rate, as the paper reports, and the best learning rate; for GLUE tasks
// also the paper's table: one column per task, the median at the best lr, and the GLUE score, their
// average). Resumable: a cell whose OUT/cells/.../results.json exists is not run again. A failed
// cell is reported (OUT/cells/.../error.txt, status in the CSV) and the others go on.
#pragma once

#include <string>
#include <vector>

#include "dist/communicator.h"

namespace electra::finetune {

struct SweepTask {
  std::string name, train, dev, test;  // test may be empty
  // classification, regression, span or token; "": from the files (.json: span, .conllu:
  // token, an STS-B layout: regression, other TSVs: classification).
  std::string type;
  long long epochs = 0;         // 0: the sweep's
  std::string metric;           // the dev metric that chooses epochs and lrs; "": the family's
  std::string format = "auto";  // sentence tasks: the TSV layout (data/task_reader.h)
  bool glue = false;            // a column of the GLUE table
};

struct SweepConfig {
  std::vector<std::string> checkpoints;  // checkpoint, run or HF directories
  std::vector<SweepTask> tasks;
  std::vector<double> learning_rates;
  std::vector<uint64_t> seeds;
  std::string out_dir;
  long long epochs = 3, batch_size = 32, max_seq_len = 0;  // 0: finetune's default
  long long doc_stride = 0, max_query_len = 64;            // span tasks (FinetuneConfig's)
  double layer_decay = 0.8;
  int reinit_layers = 0;  // FinetuneConfig's, for the pretrained cells (random-init ones: 0)
  std::string vocab;      // "" : each model's vocab.txt
  // Also the first checkpoint's architecture from random weights, with the same lrs, seeds and
  // epochs: the rows "random-init", the baseline the pretraining must beat.
  bool random_baseline = false;
  std::string device = "auto";  // --device; a node's ranks share its GPUs
};

// "NAME[@TYPE]:TRAIN:DEV[:TEST]" (TYPE: classification, regression, span, token); NAME of
// letters, digits, '.', '_' and '-' (a folder under OUT/cells). Throws std::invalid_argument
// naming the problem.
SweepTask parse_sweep_task(const std::string& spec);

// The GLUE tasks present in DIR (GLUE's own layout: DIR/CoLA/train.tsv, dev.tsv, ...; MNLI's dev
// is dev_matched.tsv) with the paper's settings (DESIGN.md section 3): 10 epochs for RTE and
// STS-B, 3 otherwise (`epochs` 0); the metric GLUE reports: matthews_corr for CoLA,
// pearson_spearman_mean for STS-B, f1_accuracy_mean for MRPC and QQP, accuracy otherwise; WNLI
// (when present) is run but left out of the GLUE score, as BERT's and ELECTRA's tables leave it.
// Throws std::runtime_error naming DIR when it holds none.
std::vector<SweepTask> glue_tasks(const std::string& dir);
// A run directory becomes its complete checkpoints (oldest first); other paths stay as given.
std::vector<std::string> expand_checkpoints(const std::vector<std::string>& paths);

struct SweepOutcome {
  int cells = 0, run = 0, skipped = 0, failed = 0;  // run: finished now; skipped: before
};

// Every rank calls this; rank 0 writes results.csv and summary.md.
SweepOutcome run_sweep(const SweepConfig& config, dist::Communicator& communicator);

}  // namespace electra::finetune
