// electra sweep: fine-tune and evaluate every (checkpoint, task, lr, seed) cell, spread over the
// MPI ranks, into a results table (app/finetune/sweep.h).
#include <torch/utils.h>
#include <algorithm>

#include <iostream>
#include <sstream>

#include "app/cli/command.h"
#include "app/cli/cpu_threads.h"
#include "app/cli/peer_timeout_option.h"
#include "app/cli/rank_phase.h"
#include "app/finetune/sweep.h"
#include "app/finetune/sweep_schedule.h"
#include "app/model/cpu_runtime.h"
#include "app/train/rank_device.h"
#include "data/output_path.h"

namespace electra::cli {
namespace {

// A comma-separated list, each item checked as a numeric option is (check_number).
template <typename T>
std::vector<T> comma_list(const std::string& text, const char* option, const Range<T>& range) {
  std::vector<T> values;
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (item.empty()) continue;
    T value{};
    const std::string problem = check_number(item, range, &value);
    if (!problem.empty()) {
      throw UsageError(std::string("--") + option + ": '" + item + "' is " + problem);
    }
    // One cell per value: the same value written twice ("1e-4,0.0001", "1,01") is refused.
    const auto same = std::find(values.begin(), values.end(), value);
    if (same != values.end()) {
      throw UsageError(std::string("--") + option + ": '" + item + "' is the same value as '" +
                       items[size_t(same - values.begin())] + "'; give each value once");
    }
    values.push_back(value);
    items.push_back(item);
  }
  if (values.empty()) throw UsageError(std::string("--") + option + " lists nothing");
  return values;
}

void declare(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("checkpoints", po::value<std::string>()->required(),
     "a run directory (every complete checkpoint) or CKPT,CKPT,... (checkpoints, runs, HF dirs)")
    ("task", po::value<std::vector<std::string>>()->composing(),
     "NAME[@TYPE]:TRAIN:DEV[:TEST] (repeatable); TYPE classification, regression, span or token; "
     "without it: .json is span (SQuAD), .conllu/.conll token, an STS-B TSV regression")
    ("glue", po::value<std::string>()->default_value(""),
     "a folder in GLUE's layout (CoLA/, SST-2/, MRPC/, STS-B/, ...: train.tsv, dev.tsv): each "
     "task present with the paper's epochs (10 for RTE and STS-B) and metric, and the GLUE table")
    ("doc-stride", number(0LL, kDocStride),
     "span tasks: tokens between context windows (0: 128)")
    ("max-query-len", number(64LL, kSequenceLength),
     "span tasks: the question's tokens at most")
    ("lrs", po::value<std::string>()->default_value("1e-4"), "learning rates, comma-separated")
    ("seeds", po::value<std::string>()->default_value("1,2,3"), "seeds, comma-separated")
    ("epochs", number(3LL, kEpochs), "epochs per cell (GLUE tasks: the paper's)")
    ("batch-size", number(32LL, kBatchSize), "examples per step")
    ("max-seq-len", number(0LL, kTaskSequenceLength),
     "tokens per example (0: finetune's: 384 for span, 128 otherwise, at most the model's)")
    ("layer-decay", number(0.8, kLayerDecay), "layer-wise learning-rate decay")
    ("reinit-layers", number(0, kReinitLayers),
     "draw each pretrained discriminator's top N layers afresh before fine-tuning (the "
     "random-init rows are fresh throughout)")
    ("random-baseline", po::bool_switch(),
     "also fine-tune the first checkpoint's architecture from random weights (same lrs, seeds, "
     "epochs): the rows 'random-init', the baseline pretraining must beat")
    ("vocab", po::value<std::string>()->default_value(""), "vocab.txt when a model has none")
    ("out", po::value<std::string>()->required(),
     "output directory: cells/, results.csv, summary.md (a rerun skips finished cells)")
    ("device", po::value<std::string>()->default_value("auto"),
     "auto (a GPU when CUDA is present, else the CPU), cpu, or cuda; a node's ranks share its "
     "GPUs (rank r takes GPU r mod their number: cells train alone)")
    ("threads", number(0, thread_range()),
     "CPU threads per rank; 0: OMP_NUM_THREADS, else the cores divided among the node's ranks");
  // clang-format on
  declare_peer_timeout(options);
}

int run(const po::variables_map& o) {
  finetune::SweepConfig config;
  std::stringstream paths(o["checkpoints"].as<std::string>());
  for (std::string path; std::getline(paths, path, ',');) {
    if (!path.empty()) config.checkpoints.push_back(path);
  }
  if (config.checkpoints.empty()) throw UsageError("--checkpoints lists nothing");
  try {
    if (o.count("task")) {
      for (const auto& spec : o["task"].as<std::vector<std::string>>()) {
        config.tasks.push_back(finetune::parse_sweep_task(spec));
      }
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (const std::string glue = o["glue"].as<std::string>(); !glue.empty()) {
    for (auto& task : finetune::glue_tasks(glue)) config.tasks.push_back(std::move(task));
  }
  if (config.tasks.empty())
    throw UsageError("give --task NAME:TRAIN:DEV (repeatable) or --glue DIR");
  for (size_t i = 0; i < config.tasks.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (config.tasks[i].name == config.tasks[j].name) {
        throw UsageError("task '" + config.tasks[i].name + "' is given twice");
      }
    }
  }
  config.doc_stride = o["doc-stride"].as<long long>();
  config.max_query_len = o["max-query-len"].as<long long>();
  config.learning_rates = comma_list(o["lrs"].as<std::string>(), "lrs", kLearningRate);
  config.seeds = comma_list(o["seeds"].as<std::string>(), "seeds", kSeed);
  config.epochs = o["epochs"].as<long long>();
  config.batch_size = o["batch-size"].as<long long>();
  config.max_seq_len = o["max-seq-len"].as<long long>();
  config.layer_decay = o["layer-decay"].as<double>();
  config.reinit_layers = o["reinit-layers"].as<int>();
  config.vocab = o["vocab"].as<std::string>();
  config.random_baseline = o["random-baseline"].as<bool>();
  config.out_dir = o["out"].as<std::string>();
  config.device = o["device"].as<std::string>();
  try {
    train::check_device_choice(config.device);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  auto world = dist::make_world_communicator();
  apply_peer_timeout(o, *world);
  torch::set_num_threads(threads_per_rank(o["threads"].as<int>()));
  model::keep_freed_memory_in_process();
  data::OutputLock lock;  // rank 0 holds --out's lock until the end
  // The claims folder goes however the sweep ends on rank 0 (run_sweep removes it when it ends
  // well), so that a refused or failed sweep leaves --out as it found it; only by the process
  // that holds --out's lock (never another sweep's folder).
  struct ClaimsCleanup {
    const data::OutputLock& lock;
    const std::string& out;
    ~ClaimsCleanup() {
      if (lock.held()) finetune::remove_cell_claims(out);
    }
  } cleanup{lock, config.out_dir};
  try {
    run_phase(*world, "sweep", [&] {
      if (world->is_root()) {
        lock = data::OutputLock::folder(config.out_dir, "--out", "electra sweep");
        finetune::reset_cell_claims(config.out_dir);
      }
    });
    run_phase(*world, "sweep", [&] { finetune::check_cell_claims_visible(config.out_dir); });
  } catch (const PhaseFailed&) {
    return kExitFailure;
  }
  const finetune::SweepOutcome outcome = finetune::run_sweep(config, *world);
  return outcome.failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace

Command sweep_command() {
  return {"sweep",
          "Fine-tune and evaluate checkpoints x tasks x lrs x seeds over the MPI ranks.",
          "--checkpoints RUN|CKPT,... (--task NAME[@TYPE]:TRAIN:DEV[:TEST] | --glue DIR) --lrs X,Y "
          "--seeds 1,2,3 --out DIR",
          declare,
          {},
          run};
}

}  // namespace electra::cli
