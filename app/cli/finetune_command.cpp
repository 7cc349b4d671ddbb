// electra finetune: the discriminator of a pretrained model fine-tuned on a labelled task of any
// family (app/finetune/finetuner.h), data parallel under mpirun; electra evaluate: a fine-tuned
// model's metrics (and predictions) on a file of its task, or an official SQuAD predictions
// file scored against its dataset.
#include <torch/utils.h>

#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cli/command.h"
#include "app/cli/cpu_threads.h"
#include "app/cli/peer_timeout_option.h"
#include "app/cli/rank_phase.h"
#include "app/cli/user_message.h"
#include "app/finetune/conlleval.h"
#include "app/finetune/finetune_resume.h"
#include "app/finetune/finetuned_model.h"
#include "app/finetune/finetuner.h"
#include "app/finetune/squad_reader.h"
#include "app/finetune/task_family.h"
#include "app/model/cpu_runtime.h"
#include "app/train/model_source.h"
#include "app/train/stop_signals.h"
#include "data/atomic_file.h"
#include "data/json_fields.h"
#include "data/output_path.h"

namespace electra::cli {
namespace {

void declare_finetune(po::options_description& options) {
  const finetune::FinetuneConfig d;
  // clang-format off
  options.add_options()
    ("model", po::value<std::string>()->required(),
     "pretrained model: a checkpoint, a run directory or an HF discriminator directory")
    ("train", po::value<std::string>()->required(),
     "training file: a TSV (GLUE layout or text/label), SQuAD JSON (span) or CoNLL/CoNLL-U (token)")
    ("dev", po::value<std::string>()->required(), "dev file (as --train): chooses the best epoch")
    ("test", po::value<std::string>()->default_value(""), "test file: predicted by the best model")
    ("out", po::value<std::string>()->required(),
     "output directory (best/, results.json, the dev predictions)")
    ("overwrite", po::bool_switch(), "replace an earlier fine-tune's results in --out (and start "
     "again instead of resuming an interrupted one)")
    ("task-type", po::value<std::string>()->default_value(d.task_type),
     "classification, regression, span (extractive QA, SQuAD v1.1/v2.0) or token (tagging)")
    ("format", po::value<std::string>()->default_value(d.format),
     "TSV layout: auto, generic, cola, sst-2, mrpc, sts-b, qqp, mnli, qnli, rte, wnli")
    ("epochs", number(d.epochs, kEpochs), "passes over the training set")
    ("lr", number(d.learning_rate, kLearningRate), "peak learning rate")
    ("batch-size", number(d.batch_size, kBatchSize), "examples per rank and step")
    ("max-seq-len", number(d.max_seq_len, kTaskSequenceLength),
     "tokens per example with [CLS]/[SEP] (0: 384 for span, 128 otherwise, at most the model's "
     "positions); sentence tasks cut longer texts at their ends (pairs: the longer first), span "
     "and token tasks use sliding windows")
    ("doc-stride", number(d.doc_stride, kDocStride),
     "span: tokens between the starts of a context's windows (0: 128); token: pieces between "
     "windows of a long sentence (0: half a window)")
    ("max-query-len", number(d.max_query_len, kSequenceLength),
     "span: the question's tokens at most (longer ones are cut)")
    ("max-answer-len", number(d.max_answer_len, Range<int>{1, 65536}),
     "span: tokens of a predicted answer at most")
    ("n-best", number(d.n_best, Range<int>{1, 1000}),
     "span: start and end candidates per window when decoding")
    ("tag-format", po::value<std::string>()->default_value(d.tag_format),
     "token: conll (a word per line, columns by white space), conllu, or auto (by name/content)")
    ("tag-column", number(d.tag_column, Range<int>{0, 1000}),
     "token: 1-based column of the tags (0: the last for CoNLL, UPOS for CoNLL-U)")
    ("layer-decay", number(d.layer_decay, kLayerDecay),
     "layer-wise learning-rate decay: layer i of L gets decay^(L - i), the embeddings decay^(L+1)")
    ("warmup", number(d.warmup_fraction, kFraction),
     "fraction of the steps with a linear warmup")
    ("weight-decay", number(d.weight_decay, kWeightDecay), "AdamW weight decay")
    ("seed", number(d.seed, kSeed), "seed of the head, order and dropout")
    ("metric", po::value<std::string>()->default_value(""),
     "dev metric that chooses the best epoch (default: accuracy; matthews_corr for CoLA; "
     "pearson_spearman_mean for regression; f1 for span and for chunk/entity tags)")
    ("random-init", po::bool_switch(),
     "fine-tune the same architecture from random weights (a baseline for the pretraining)")
    ("reinit-layers", number(0, kReinitLayers),
     "draw the discriminator's top N layers afresh (as pretraining starts them) before "
     "fine-tuning; the embeddings and the layers below stay pretrained (not with --random-init)")
    ("vocab", po::value<std::string>()->default_value(""), "vocab.txt when the model has none")
    ("cased", po::bool_switch(), "the model's vocabulary is cased")
    ("device", po::value<std::string>()->default_value(d.device),
     "auto (a GPU per rank when CUDA is present, else the CPU), cpu, or cuda (one rank per GPU)")
    ("threads", number(0, thread_range()),
     "CPU threads per rank; 0: OMP_NUM_THREADS, else the cores divided among the node's ranks");
  // clang-format on
  declare_peer_timeout(options);
}

int run_finetune(const po::variables_map& o) {
  finetune::FinetuneConfig config;
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
  config.reinit_layers = o["reinit-layers"].as<int>();
  config.lowercase = !o["cased"].as<bool>();
  config.device = o["device"].as<std::string>();
  config.doc_stride = o["doc-stride"].as<long long>();
  config.max_query_len = o["max-query-len"].as<long long>();
  config.max_answer_len = o["max-answer-len"].as<int>();
  config.n_best = o["n-best"].as<int>();
  config.tag_format = o["tag-format"].as<std::string>();
  config.tag_column = o["tag-column"].as<int>();
  try {
    config.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  auto world = dist::make_world_communicator();
  apply_peer_timeout(o, *world);
  torch::set_num_threads(threads_per_rank(o["threads"].as<int>()));
  model::keep_freed_memory_in_process();
  train::ModelSource source;
  data::OutputLock lock;      // rank 0 holds --out's lock until the end
  data::OutputRecord record;  // and lists what it writes there
  try {
    run_phase(*world, "finetune", [&] {
      if (!world->is_root()) return;
      lock = data::OutputLock::folder(config.out_dir, "--out", "electra finetune");
      for (const std::string folder : {"best", finetune::kResumeFolder}) {  // a stop mid-rename
        const std::string final_dir = config.out_dir + "/" + folder;
        finetune::recover_replaced_folder(final_dir + ".new", final_dir);
      }
      const std::vector<data::CommandInput> read{{config.model_dir, "--model"},
                                                 {config.train_path, "--train"},
                                                 {config.dev_path, "--dev"},
                                                 {config.test_path, "--test"},
                                                 {o["vocab"].as<std::string>(), "--vocab"}};
      if (finetune::has_resume(config.out_dir) && !o["overwrite"].as<bool>()) {
        // An interrupted fine-tune: continued (finetune_resume.h); nothing else may be there.
        record = data::continue_output_folder(config.out_dir, "finetune", read);
      } else {
        record = data::claim_output_folder(config.out_dir, "finetune", "a fine-tuned model", read,
                                           o["overwrite"].as<bool>());
      }
    });
    run_phase(*world, "finetune", [&] {
      source = train::load_model_source(config.model_dir, o["vocab"].as<std::string>());
      if (source.vocab_path.empty()) {
        throw std::runtime_error(source.path + " has no vocab.txt: pass --vocab FILE");
      }
    });
  } catch (const PhaseFailed&) {
    return kExitFailure;
  }
  // This rank's error, then every rank stopped with its status.
  const auto fail = [&](const std::string& message, int status) {
    std::cerr << "electra finetune: " << dist::rank_prefix(*world) << message << std::endl;
    if (world->size() > 1) world->abort(status);
    return status;
  };
  nlohmann::json summary;
  train::catch_stop_signals();  // after MPI_Init: these are the handlers in place
  try {
    summary = finetune::finetune(config, *source.model, source.vocab_path, *world);
  } catch (const finetune::FinetuneInterrupted& stop) {
    if (world->is_root()) {
      std::cout << "finetune: " << train::stop_signal_name(stop.signal) << " at epoch "
                << stop.epoch << ", step " << stop.step_in_epoch << ": state saved in "
                << config.out_dir << "/" << finetune::kResumeFolder
                << "; run the same command to resume" << std::endl;
    }
    return kExitInterrupted;
  } catch (const c10::Error& e) {  // without LibTorch's text (ELECTRA_DEBUG=1 adds it)
    return fail(user_message(e), kExitFailure);
  } catch (const std::invalid_argument& e) {  // an option that cannot work with this model/data
    return fail(e.what(), kExitUsage);
  } catch (const std::exception& e) {
    return fail(user_message(e), kExitFailure);
  }
  record.complete();
  if (world->is_root()) std::cout << summary.dump(2) << "\n";
  return kExitOk;
}

void declare_evaluate(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("model", po::value<std::string>()->default_value(""),
     "a fine-tuned model: electra finetune's --out (or its best/)")
    ("data", po::value<std::string>(),
     "file to evaluate, of the model's task (labelled for metrics); with --answers: the SQuAD "
     "dataset the answers are for")
    ("predictions", po::value<std::string>()->default_value(""),
     "write the predictions to this file: index<TAB>prediction (sentence tasks), SQuAD's "
     "id -> answer JSON (span), the input's columns with the predicted tag (token)")
    ("overwrite", po::bool_switch(), "replace an existing --predictions file")
    ("answers", po::value<std::string>()->default_value(""),
     "instead of --model: a SQuAD predictions file (id -> answer text) to score, as the official "
     "evaluate-v1.1.py / evaluate-v2.0.py do")
    ("conlleval", po::value<std::string>()->default_value(""),
     "instead of --model: score a tagged file whose last two columns are the gold and the "
     "predicted tag (conlleval's input, e.g. a CoNLL task's dev_predictions.txt), as conlleval does")
    ("na-probs", po::value<std::string>()->default_value(""),
     "with --answers on SQuAD v2.0: id -> no-answer probability JSON (adds the best thresholds)")
    ("format", po::value<std::string>()->default_value("auto"),
     "sentence tasks: the TSV layout (auto: the model's)")
    ("batch-size", number(64LL, kBatchSize), "rows per forward pass")
    ("threads", number(0, thread_range()), "CPU threads; 0: all cores");
  // clang-format on
}

std::map<std::string, std::string> read_answers(const std::string& path) {
  const nlohmann::json answers = data::read_json_file(path, "cannot open the answers file");
  if (!answers.is_object()) {
    throw std::runtime_error(path +
                             ": not a SQuAD predictions file (a JSON object of question id "
                             "-> answer text)");
  }
  std::map<std::string, std::string> out;
  for (const auto& [id, text] : answers.items()) {
    if (!text.is_string()) {
      throw std::runtime_error(path + ": the answer of question " + id + " is not a string");
    }
    out[id] = text.get<std::string>();
  }
  return out;
}

// The official scripts' figures for a predictions file.
nlohmann::json score_answers(const po::variables_map& o) {
  const finetune::SquadFile file = finetune::read_squad_file(o["data"].as<std::string>());
  const auto answers = read_answers(o["answers"].as<std::string>());
  const auto questions = finetune::squad_questions(file);
  if (file.version == finetune::SquadVersion::kV1) {
    return finetune::squad_v1_metrics(questions, answers);
  }
  std::map<std::string, double> na_probs;
  if (const std::string path = o["na-probs"].as<std::string>(); !path.empty()) {
    const nlohmann::json probs = data::read_json_file(path, "cannot open the no-answer file");
    for (const auto& [id, value] : probs.items()) {
      if (!value.is_number()) {
        throw std::runtime_error(path + ": the no-answer probability of " + id +
                                 " is not a number");
      }
      na_probs[id] = value.get<double>();
    }
  }
  return finetune::squad_v2_metrics(questions, answers, na_probs);
}

// A SQuAD JSON file given to a model of another task (or the reverse) is named as such, before
// its reader reports a line it cannot parse.
void check_task_of_file(const std::string& path, const finetune::FinetunedModel& finetuned,
                        const std::string& model_dir) {
  std::ifstream in(path);
  char first = 0;
  while (in.get(first) && std::isspace(static_cast<unsigned char>(first))) {
  }
  const bool json = in && first == '{';
  const bool span = finetuned.type == finetune::TaskType::kSpan;
  if (json != span && in) {
    throw std::runtime_error(
        path + ": " + (json ? "a JSON (SQuAD) file" : "not a JSON (SQuAD) file") + ", but " +
        model_dir + " was fine-tuned for " + finetune::to_string(finetuned.type) +
        " (its task.json); give it a file of that task");
  }
}

// conlleval on a file of "... gold predicted" lines, blank lines between sentences.
nlohmann::json score_tagged(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the tagged file");
  std::vector<finetune::TaggedSentence> sentences(1);
  long number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    std::istringstream fields(line);
    std::vector<std::string> columns;
    for (std::string field; fields >> field;) columns.push_back(field);
    if (columns.empty() || columns[0] == "-DOCSTART-") {
      if (!sentences.back().gold.empty()) sentences.emplace_back();
      continue;
    }
    if (columns.size() < 2) {
      throw std::runtime_error(path + ":" + std::to_string(number) +
                               ": needs at least two columns (the gold and the predicted tag)");
    }
    sentences.back().gold.push_back(columns[columns.size() - 2]);
    sentences.back().predicted.push_back(columns.back());
  }
  if (sentences.back().gold.empty()) sentences.pop_back();
  if (sentences.empty()) throw std::runtime_error(path + ": holds no tagged word");
  return finetune::conlleval(sentences).to_json();
}

int run_evaluate(const po::variables_map& o) {
  torch::set_num_threads(threads_per_rank(o["threads"].as<int>()));
  const std::string model_dir = o["model"].as<std::string>();
  if (const std::string tagged = o["conlleval"].as<std::string>(); !tagged.empty()) {
    if (!model_dir.empty()) throw UsageError("give --model or --conlleval, not both");
    std::cout << score_tagged(tagged).dump() << "\n";
    return kExitOk;
  }
  const bool answers = !o["answers"].as<std::string>().empty();
  if (answers == !model_dir.empty()) {
    throw UsageError(
        "give --model (a fine-tuned model), --answers (a SQuAD predictions file) or --conlleval "
        "(a tagged file)");
  }
  if (o["data"].empty()) throw UsageError("--data is required with --model and --answers");
  if (answers) {
    std::cout << score_answers(o).dump() << "\n";
    return kExitOk;
  }
  if (o["batch-size"].as<long long>() < 1) throw UsageError("--batch-size must be 1 or more");
  // The predictions never replace the data or anything in the model, nor an existing file
  // unless --overwrite; checked on every rank, written (and locked) by rank 0.
  const std::string predictions = o["predictions"].as<std::string>();
  const std::vector<data::CommandInput> inputs = {{o["data"].as<std::string>(), "--data"},
                                                  {model_dir, "--model"}};
  if (!predictions.empty()) {
    data::check_output_claim(predictions, "--predictions", inputs, o["overwrite"].as<bool>());
  }
  auto world = dist::make_world_communicator();
  data::OutputLock predictions_lock;
  if (!predictions.empty() && world->is_root()) {
    predictions_lock = data::OutputLock::claim_file(
        predictions, "--predictions", "electra evaluate", inputs, o["overwrite"].as<bool>());
  }
  finetune::FinetunedModel finetuned = finetune::load_finetuned(model_dir);
  auto vocab =
      std::make_shared<const data::Vocabulary>(data::Vocabulary::load(finetuned.vocab_path));
  const data::WordPieceTokenizer tokenizer(vocab, finetuned.lowercase);
  const bool sentences = finetuned.type == finetune::TaskType::kClassification ||
                         finetuned.type == finetune::TaskType::kRegression;
  if (o["format"].as<std::string>() != "auto") {
    if (!sentences) {
      throw UsageError("--format is the TSV layout of sentence tasks; " + model_dir +
                       " was fine-tuned for " + finetune::to_string(finetuned.type));
    }
    finetuned.format = o["format"].as<std::string>();
  }
  check_task_of_file(o["data"].as<std::string>(), finetuned, model_dir);
  if (finetuned.format.empty()) finetuned.format = "auto";
  const auto family = finetune::task_family(finetuned, tokenizer);
  const finetune::Evaluation evaluation = family->evaluate(finetuned, o["data"].as<std::string>(),
                                                           o["batch-size"].as<long long>(), *world);
  if (!world->is_root()) return kExitOk;
  if (!predictions.empty()) data::write_file_atomically(predictions, evaluation.predictions);
  std::cout << evaluation.metrics.dump() << "\n";
  return kExitOk;
}

}  // namespace

Command finetune_command() {
  return {"finetune",
          "Fine-tune the discriminator on a labelled task: classification, regression, span "
          "(SQuAD) or token (tagging).",
          "--model DIR --train FILE --dev FILE [--test FILE] --out DIR [--task-type T] "
          "[--epochs N]",
          declare_finetune,
          {},
          run_finetune};
}

Command evaluate_command() {
  return {"evaluate",
          "A fine-tuned model's metrics on a file of its task (or a SQuAD predictions file's), "
          "as JSON.",
          "--model DIR --data FILE [--predictions FILE] | --answers FILE --data SQUAD.json",
          declare_evaluate,
          {},
          run_evaluate};
}

}  // namespace electra::cli
