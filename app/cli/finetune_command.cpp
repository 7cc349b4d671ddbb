// electra finetune: the discriminator of a pretrained model fine-tuned on a labelled task
// (app/train/finetuner.h), data parallel under mpirun; electra evaluate: a fine-tuned model's
// metrics (and predictions) on a TSV.
#include <torch/utils.h>

#include <iostream>

#include "app/cli/command.h"
#include "app/cli/cpu_threads.h"
#include "app/cli/rank_phase.h"
#include "app/model/cpu_runtime.h"
#include "app/model/sequence_classifier.h"
#include "app/train/finetuned_model.h"
#include "app/train/finetuner.h"
#include "app/train/model_source.h"
#include "data/atomic_file.h"

namespace electra::cli {
namespace {

void declare_finetune(po::options_description& options) {
  const train::FinetuneConfig d;
  // clang-format off
  options.add_options()
    ("model", po::value<std::string>()->required(),
     "pretrained model: a checkpoint, a run directory or an HF discriminator directory")
    ("train", po::value<std::string>()->required(), "training TSV (GLUE layout or text/label)")
    ("dev", po::value<std::string>()->required(), "dev TSV: chooses the best epoch")
    ("test", po::value<std::string>()->default_value(""), "test TSV: predicted by the best model")
    ("out", po::value<std::string>()->required(), "output directory (best/, results.json)")
    ("task-type", po::value<std::string>()->default_value(d.task_type),
     "classification or regression")
    ("format", po::value<std::string>()->default_value(d.format),
     "TSV layout: auto, generic, cola, sst-2, mrpc, sts-b, qqp, mnli, qnli, rte")
    ("epochs", po::value<long long>()->default_value(d.epochs), "passes over the training set")
    ("lr", default_number(d.learning_rate), "peak learning rate")
    ("batch-size", po::value<long long>()->default_value(d.batch_size), "examples per rank and step")
    ("max-seq-len", po::value<long long>()->default_value(d.max_seq_len),
     "tokens per example with [CLS]/[SEP]; longer texts lose their ends (pairs: the longer first)")
    ("layer-decay", default_number(d.layer_decay),
     "layer-wise learning-rate decay: layer i of L gets decay^(L - i), the embeddings decay^(L+1)")
    ("warmup", default_number(d.warmup_fraction),
     "fraction of the steps with a linear warmup")
    ("weight-decay", default_number(d.weight_decay), "AdamW weight decay")
    ("seed", po::value<uint64_t>()->default_value(d.seed), "seed of the head, order and dropout")
    ("metric", po::value<std::string>()->default_value(""),
     "dev metric that chooses the best epoch (default: accuracy; matthews_corr for CoLA; "
     "pearson_spearman_mean for regression)")
    ("random-init", po::bool_switch(),
     "fine-tune the same architecture from random weights (a baseline for the pretraining)")
    ("vocab", po::value<std::string>()->default_value(""), "vocab.txt when the model has none")
    ("cased", po::bool_switch(), "the model's vocabulary is cased")
    ("device", po::value<std::string>()->default_value(d.device),
     "auto (a GPU per rank when CUDA is present, else the CPU), cpu, or cuda (one rank per GPU)")
    ("threads", po::value<int>()->default_value(0),
     "CPU threads per rank; 0: OMP_NUM_THREADS, else the cores divided among the node's ranks");
  // clang-format on
}

int run_finetune(const po::variables_map& o) {
  train::FinetuneConfig config;
  config.model_dir = o["model"].as<std::string>();
  config.train_path = o["train"].as<std::string>();
  config.dev_path = o["dev"].as<std::string>();
  config.test_path = o["test"].as<std::string>();
  config.out_dir = o["out"].as<std::string>();
  config.task_type = o["task-type"].as<std::string>();
  config.format = o["format"].as<std::string>();
  config.epochs = o["epochs"].as<long long>();
  config.learning_rate = o["lr"].as<double>();
  config.batch_size = o["batch-size"].as<long long>();
  config.max_seq_len = o["max-seq-len"].as<long long>();
  config.layer_decay = o["layer-decay"].as<double>();
  config.warmup_fraction = o["warmup"].as<double>();
  config.weight_decay = o["weight-decay"].as<double>();
  config.seed = o["seed"].as<uint64_t>();
  config.selection_metric = o["metric"].as<std::string>();
  config.random_init = o["random-init"].as<bool>();
  config.lowercase = !o["cased"].as<bool>();
  config.device = o["device"].as<std::string>();
  try {
    config.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  auto world = dist::make_world_communicator();
  torch::set_num_threads(threads_per_rank(o["threads"].as<int>()));
  model::keep_freed_memory_in_process();
  train::ModelSource source;
  try {
    run_phase(*world, "finetune", [&] {
      source = train::load_model_source(config.model_dir, o["vocab"].as<std::string>());
      if (source.vocab_path.empty()) {
        throw std::runtime_error(source.path + " has no vocab.txt: pass --vocab FILE");
      }
    });
  } catch (const PhaseFailed&) {
    return kExitFailure;
  }
  nlohmann::json summary;
  try {
    summary = train::finetune(config, *source.model, source.vocab_path, *world);
  } catch (const std::exception& e) {
    std::cerr << "electra finetune: " << dist::rank_prefix(*world) << e.what() << std::endl;
    if (world->size() > 1) world->abort(kExitFailure);
    return kExitFailure;
  }
  if (world->is_root()) std::cout << summary.dump(2) << "\n";
  return kExitOk;
}

void declare_evaluate(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("model", po::value<std::string>()->required(),
     "a fine-tuned model: electra finetune's --out/best (or --out)")
    ("data", po::value<std::string>()->required(), "TSV to evaluate (labelled for metrics)")
    ("predictions", po::value<std::string>()->default_value(""),
     "write index<TAB>prediction per example to this file")
    ("format", po::value<std::string>()->default_value("auto"), "TSV layout (as finetune)")
    ("batch-size", po::value<long long>()->default_value(64), "examples per forward pass")
    ("threads", po::value<int>()->default_value(0), "CPU threads; 0: all cores");
  // clang-format on
}

int run_evaluate(const po::variables_map& o) {
  torch::set_num_threads(threads_per_rank(o["threads"].as<int>()));
  std::string dir = o["model"].as<std::string>();
  if (!std::filesystem::exists(std::filesystem::path(dir) / train::kTaskFile) &&
      std::filesystem::exists(std::filesystem::path(dir) / "best" / train::kTaskFile)) {
    dir = (std::filesystem::path(dir) / "best").string();
  }
  train::FinetunedModel finetuned = train::load_finetuned(dir);
  auto vocab =
      std::make_shared<const data::Vocabulary>(data::Vocabulary::load(finetuned.vocab_path));
  const data::WordPieceTokenizer tokenizer(vocab, finetuned.lowercase);
  const std::string format =
      o["format"].as<std::string>() == "auto" && finetuned.info.contains("format")
          ? finetuned.info["format"].get<std::string>()
          : o["format"].as<std::string>();
  const data::TaskFile file = data::read_task_file(o["data"].as<std::string>(), format);
  const train::EncodedTask task =
      train::encode_task(file, tokenizer, finetuned.max_seq_len, finetuned.type, finetuned.labels);
  const train::Predictions predictions =
      train::predict(*finetuned.model, task, finetuned.type, 0, task.input_ids.size(0),
                     o["batch-size"].as<long long>());
  nlohmann::json metrics = train::task_metrics(predictions, task, finetuned.type, finetuned.labels);
  if (!file.labelled) metrics["examples"] = file.examples.size();
  if (const std::string path = o["predictions"].as<std::string>(); !path.empty()) {
    train::write_predictions(path, predictions, finetuned.type, finetuned.labels);
  }
  std::cout << metrics.dump() << "\n";
  return kExitOk;
}

}  // namespace

Command finetune_command() {
  return {"finetune",
          "Fine-tune the discriminator on a labelled task (classification or regression).",
          "--model DIR --train TSV --dev TSV [--test TSV] --out DIR [--task-type T] [--epochs N]",
          declare_finetune,
          {},
          run_finetune};
}

Command evaluate_command() {
  return {"evaluate",
          "A fine-tuned model's metrics on a TSV, as JSON.",
          "--model DIR --data TSV [--predictions FILE]",
          declare_evaluate,
          {},
          run_evaluate};
}

}  // namespace electra::cli
