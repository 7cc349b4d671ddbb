// Fine-tuning the discriminator on a task (DESIGN.md section 3), one loop for every task family
// (task_family.h): AdamW without bias correction, weight decay 0.01 (not LayerNorm and biases),
// layer-wise learning-rate decay, linear warmup over the first warmup_fraction of the steps then
// linear decay, clipping at 1.0. Data parallel under MPI through the same gradient reducer as
// pretraining: each epoch's shuffled training rows (examples, SQuAD windows, tagged windows)
// form global batches of ranks x batch_size (the remainder is left out of that epoch), each
// batch cut to its longest row. After every epoch the dev set is evaluated (split over the
// ranks, gathered to rank 0) and the best model so far is kept in OUT/best/ with its dev
// predictions.
#pragma once

#include <c10/core/Device.h>
#include <c10/util/Optional.h>

#include <nlohmann/json.hpp>
#include <string>

#include "app/model/electra_model.h"
#include "dist/communicator.h"

namespace electra::finetune {

struct FinetuneConfig {
  std::string model_dir;                        // where `pair` came from (recorded with the model)
  std::string train_path, dev_path, test_path;  // test optional
  std::string format = "auto";               // sentence tasks: the TSV layout (data/task_reader.h)
  std::string task_type = "classification";  // regression, span (SQuAD), token (tagging)
  std::string out_dir;
  long long epochs = 3, batch_size = 32;
  long long max_seq_len = 0;  // 0: 384 for span, 128 otherwise (at most the model's positions)
  double learning_rate = 1e-4, layer_decay = 0.8, warmup_fraction = 0.1;
  double weight_decay = 0.01, clip_norm = 1.0;
  uint64_t seed = 12345;
  bool lowercase = true;
  // span: SQuAD windows and decoding; token: doc_stride is the stride between windows of pieces
  // (0: 128 for span, half a window for token).
  long long doc_stride = 0, max_query_len = 64;
  int max_answer_len = 30, n_best = 20;
  int tag_column = 0;               // token: 1-based tag column (0: last; CoNLL-U: UPOS)
  std::string tag_format = "auto";  // token: conll, conllu, auto
  bool random_init = false;         // the same architecture, randomly initialised (a baseline)
  int reinit_layers = 0;         // the discriminator's top layers drawn afresh before fine-tuning
  bool quiet = false;            // no progress lines (sweeps print one line per cell)
  bool keep_model = true;        // false: OUT/best/ is removed at the end (sweeps keep results)
  std::string selection_metric;  // "": the family's (accuracy; matthews_corr for CoLA;
                                 // pearson_spearman_mean for regression; f1 for span and chunks)
  std::string device = "auto";   // --device (app/train/rank_device.h)
  // Set: this device, whatever `device` says (a sweep's cells, placed by the sweep's ranks).
  c10::optional<c10::Device> placed_on;

  void validate() const;  // throws std::invalid_argument naming the option
};

// Fine-tunes the discriminator of `pair` (its tokens from `vocab_path`). Runs on every rank;
// returns (on rank 0; {} elsewhere) the summary written to OUT/results.json: the dev metrics of
// the best epoch, the test metrics when the test file is labelled, paths.
nlohmann::json finetune(const FinetuneConfig& config, model::ElectraModelImpl& pair,
                        const std::string& vocab_path, dist::Communicator& communicator);

}  // namespace electra::finetune
