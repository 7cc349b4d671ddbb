// electra pretrain: trains generator and discriminator jointly from prepared shards, on one
// process or under mpirun (data parallel), with evaluation, metrics and checkpoints.
#include <torch/cuda.h>
#include <torch/utils.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "app/cli/command.h"
#include "app/cli/cpu_threads.h"
#include "app/cli/defaults.h"
#include "app/cli/peer_timeout_option.h"
#include "app/cli/rank_phase.h"
#include "app/cli/user_message.h"
#include "app/model/cpu_runtime.h"
#include "app/train/checkpoint_files.h"
#include "app/train/init_source.h"
#include "app/train/stop_signals.h"
#include "app/train/trainer.h"
#include "app/train/training_checkpoint.h"
#include "data/json_fields.h"
#include "data/output_path.h"

namespace electra::cli {
namespace {

namespace fs = std::filesystem;

void declare(po::options_description& options) {
  const train::TrainConfig d;
  // clang-format off
  options.add_options()
    ("data", po::value<std::string>()->required(), "prepared corpus (electra prepare --out)")
    ("out", po::value<std::string>()->required(),
     "run directory: metrics.jsonl, tensorboard/, checkpoints/; holding a complete checkpoint, "
     "training resumes from it")
    ("resume", po::bool_switch(), "resume from OUT's latest complete checkpoint; fail if none")
    ("vocab", po::value<std::string>()->default_value(kDefaultVocab),
     "vocab.txt the corpus was prepared with")
    ("init-from", po::value<std::string>(),
     "start from a trained model: an HF ELECTRA directory (a pair, or a discriminator alone: the "
     "generator then starts from random weights at the configured size), a checkpoint or a run "
     "directory; its weights and model configuration with a fresh optimizer, schedule and step "
     "0. The corpus must use its vocabulary. Ignored (with a note) when --out already holds this "
     "run's own checkpoints: they resume")
    ("init-optimizer", po::bool_switch(),
     "with --init-from a checkpoint: carry its optimizer moments too (NVIDIA's phase 2)")
    ("word-rows-init", po::value<std::string>()->default_value(d.word_rows_init),
     "the shared word rows of a fresh pair: random (normal, initializer_range), or ppmi: count-"
     "based token vectors of the training shards (each token's positive PMI with the 5,000 most "
     "frequent tokens within 2 places, SVD to the embedding size, scaled to initializer_range; "
     "tokens never seen stay random; rank 0 counts at most 100 M positions, sampled across the "
     "shards, while the other ranks wait up to 30 minutes). Not applied with --init-from or when "
     "resuming")
    ("output-bias-init", po::value<std::string>()->default_value(d.output_bias_init),
     "the generator's (mlm: the model's) output bias of a fresh pair: zero, or unigram: the log "
     "of each token's add-one-smoothed frequency in the training shards ([PAD], [CLS], [SEP], "
     "[MASK] as never seen). Not applied with --init-from or when resuming")
    ("whole-word-masking", po::bool_switch(),
     "mask whole words (a token and its ## continuations) instead of single tokens")
    ("model", po::value<std::string>()->default_value("small"),
     "model preset (tiny, small, base, large) or a model JSON file")
    ("set", po::value<std::vector<std::string>>()->composing(),
     "override a model field, FIELD=VALUE (repeatable), e.g. hidden_dropout_prob=0")
    ("train-steps", number(d.train_steps, kSteps), "optimiser steps")
    ("warmup-steps", number(d.warmup_steps, Range<long long>{0, kMaxCount}),
     "linear warmup steps (times linear decay to train-steps)")
    ("batch-size", number(d.batch_size, kBatchSize),
     "sequences per rank and micro-batch")
    ("grad-accum", number(d.grad_accum, Range<long long>{1, 65536}),
     "micro-batches per optimiser step")
    ("learning-rate", number(d.learning_rate, kLearningRate), "peak learning rate")
    ("optimizer", po::value<std::string>()->default_value(d.optimizer),
     "adamw (the reference) or lamb (large batches)")
    ("weight-decay", number(d.weight_decay, kWeightDecay),
     "decoupled weight decay (not on LayerNorm or biases)")
    ("adam-epsilon", number(d.adam_epsilon, Range<double>{0, 1, true}), "AdamW epsilon")
    ("clip-norm", number(d.clip_norm, Range<double>{0, 1e6, true}), "global gradient-norm clip")
    ("mask-prob", number(d.mask_prob, Range<double>{0, 1, true, true}), "fraction of tokens masked")
    ("temperature", number(d.temperature, Range<double>{0, 100, true}), "sampling temperature")
    ("gen-weight", number(d.generator_weight, Range<double>{0, 1e4}), "weight of the MLM loss")
    ("disc-weight", number(d.discriminator_weight, Range<double>{0, 1e4}),
     "weight of the replaced-token-detection loss")
    ("gen-lr-scale", number(d.generator_lr_scale, Range<double>{0, 1e4, true}),
     "the generator's own parameters learn at the learning rate times this (the shared "
     "embeddings at the full rate)")
    ("strategy", po::value<std::string>()->default_value(d.strategy),
     "how the pair learns: joint (generator by maximum likelihood, with the discriminator), "
     "two-stage (a generator of the discriminator's size alone for half the steps, then the "
     "discriminator from its weights, generator frozen), adversarial (generator by REINFORCE "
     "on the discriminator's loss at the tokens it sampled) or mlm (BERT's objective alone on "
     "a model of the discriminator's size, no generator; its checkpoints' discriminator is "
     "that encoder, for fine-tuning)")
    ("adversarial-entropy", number(d.adversarial_entropy, Range<double>{0, 100}),
     "adversarial: weight of the generator's entropy bonus")
    ("adversarial-baseline-decay",
     number(d.adversarial_baseline_decay, Range<double>{0, 1, false, true}),
     "adversarial: decay of the reward's moving-average baseline")
    ("adversarial-mlm-warmup", number(d.adversarial_mlm_warmup, Range<long long>{0, kMaxCount}),
     "adversarial: first steps whose generator trains by MLM")
    ("seed", number(d.seed, kSeed), "seed of weights, data order, masks")
    ("log-every", number(d.log_every, kEvery),
     "steps between train records (and the last step)")
    ("eval-every", number(d.eval_every, kEvery),
     "steps between evaluations (and the last step); 0: only at the end")
    ("save-every", number(d.save_every, kEvery),
     "steps between checkpoints (and the last step); 0: only at the end")
    ("keep-checkpoints", number(d.keep_checkpoints, Range<long long>{1, 1000000}),
     "complete checkpoints kept (the newest)")
    ("eval-examples", number(d.eval_examples, Range<long long>{0, kMaxCount}),
     "validation examples evaluated; 0: all")
    ("stop-at", number(0LL, Range<long long>{0, kMaxCount}),
     "end this run after that step with a checkpoint (the schedule still runs to train-steps; "
     "run again to resume); 0: never")
    ("max-nonfinite-steps", number(d.max_nonfinite_steps, Range<long long>{1, 1000000}),
     "steps in a row with a non-finite loss or gradient (each skipped) before stopping")
    ("check-replicas-every", number(d.check_replicas_every, kEvery),
     "steps between checks that every rank holds the same parameters (checksums compared); "
     "0: never")
    ("bucket-mb", number(d.bucket_mb, Range<double>{0, 4096, true}),
     "gradient bucket size in MB (fp32) of the all-reduce that overlaps backward")
    ("reduce-dtype", po::value<std::string>()->default_value(d.reduce_dtype),
     "what the gradient all-reduce sends: fp32, or bf16 (half the traffic, rounded sums)")
    ("device", po::value<std::string>()->default_value(d.device),
     "auto (a GPU per rank when CUDA is present, else the CPU), cpu, or cuda (one rank per GPU)")
    ("cuda-graph", po::bool_switch(),
     "CUDA, one rank: capture the whole step (forward, backward, optimizer) once and replay it")
    ("fp32-matmul", po::value<std::string>()->default_value(d.fp32_matmul),
     "CUDA: the matmuls kept in fp32 (vocabulary projection, losses) on tensor cores with TF32 "
     "inputs (tf32), or in full fp32 (ieee)")
    ("threads", number(0, thread_range()),
     "CPU threads per rank; 0: OMP_NUM_THREADS when set, else the cores divided among this "
     "node's ranks");
  // clang-format on
  declare_peer_timeout(options);
}

std::vector<std::string> assignments(const po::variables_map& o) {
  return o.count("set") ? o["set"].as<std::vector<std::string>>() : std::vector<std::string>();
}

// --model and --set, for a run from scratch.
model::ModelConfig configured_model(const po::variables_map& o) {
  model::ModelConfig model = model::ModelConfig::load(o["model"].as<std::string>());
  for (const auto& assignment : assignments(o)) model.set(assignment);
  return model;
}

// "--word-rows-init ppmi and --output-bias-init unigram": the start options that ask for something.
std::string start_options(const train::TrainConfig& c) {
  std::vector<std::string> given;
  if (c.word_rows_init != "random") given.push_back("--word-rows-init " + c.word_rows_init);
  if (c.output_bias_init != "zero") given.push_back("--output-bias-init " + c.output_bias_init);
  return given.size() == 2 ? given[0] + " and " + given[1] : given.empty() ? "" : given[0];
}

// A resumed run keeps the start its first part made (`saved`: its checkpoint's train_config.json;
// none recorded: the paper's), whatever is given now; a note when that differs, unless the run
// started from a source's weights (--init-from), where no start option applied.
void keep_recorded_start(const std::string& checkpoint, const nlohmann::json& saved,
                         bool from_source, train::TrainConfig& c, std::vector<std::string>& notes) {
  std::string rows = "random", bias = "zero";
  const std::string path = (fs::path(checkpoint) / train::kTrainConfigFile).string();
  if (saved.contains("word_rows_init"))
    rows = data::json_field<std::string>(saved, "word_rows_init", path);
  if (saved.contains("output_bias_init"))
    bias = data::json_field<std::string>(saved, "output_bias_init", path);
  if (!from_source && (rows != c.word_rows_init || bias != c.output_bias_init)) {
    notes.push_back("pretrain: resuming " + checkpoint + ", which started with --word-rows-init " +
                    rows + " --output-bias-init " + bias + " (kept; the start options of this " +
                    "command apply to a fresh run)");
  }
  c.word_rows_init = rows, c.output_bias_init = bias;
}

// How the run starts, when it does not start from scratch with --model: from SOURCE
// (--init-from, or the model electra import-hf put in --out), or from this run's own
// checkpoints, which resume; for a run that was started from a source, its model and vocabulary
// are that source's (recorded in the checkpoint). Fills c.model, c.vocab_path and c.init_*;
// `init` gets SOURCE when it is to be loaded; `notes` what rank 0 prints.
void resolve_start(const po::variables_map& o, train::TrainConfig& c,
                   std::optional<train::InitSource>& init, std::vector<std::string>& notes) {
  std::string given = o.count("init-from") ? o["init-from"].as<std::string>() : "";
  const bool explicit_vocab = !o["vocab"].defaulted();
  std::optional<model::ModelConfig> explicit_model;
  if (!o["model"].defaulted())
    explicit_model = model::ModelConfig::load(o["model"].as<std::string>());
  const std::string model_name = o["model"].as<std::string>();
  if (const auto own = train::latest_training_checkpoint(c.out_dir)) {
    const nlohmann::json saved = train::recorded_train_config(*own);
    const nlohmann::json recorded = train::recorded_init(saved);
    const std::string started_from =
        recorded.is_object() ? data::json_field<std::string>(recorded, "source", *own) : "";
    keep_recorded_start(*own, saved, !started_from.empty(), c, notes);
    if (!given.empty()) {
      std::error_code e1, e2;
      if (started_from.empty() ||
          fs::weakly_canonical(given, e1) != fs::weakly_canonical(started_from, e2)) {
        throw UsageError("--init-from " + given + ": --out " + c.out_dir +
                         " already holds this run's own checkpoints (" +
                         fs::path(*own).filename().string() + ", started " +
                         (started_from.empty() ? "from scratch" : "from " + started_from) +
                         "); run without --init-from to resume them, or choose a new --out");
      }
      notes.push_back("pretrain: --init-from " + given + ": --out already holds this run's own " +
                      "checkpoints; they resume (the source is not read again)");
    }
    if (started_from.empty()) {
      c.model = configured_model(o);
      return;
    }
    // The run's own checkpoint holds the source's model (with its fresh generator, if any).
    const std::string config_path = (fs::path(*own) / train::kModelConfigFile).string();
    c.model = train::init_model_config(
        model::ModelConfig::from_json(data::read_json_file(config_path, "missing"), config_path),
        true, config_path, explicit_model, model_name, assignments(o));
    if (!explicit_vocab) c.vocab_path = (fs::path(c.out_dir) / train::kVocabFile).string();
    c.init_from = started_from;
    c.init_record = recorded;
    return;
  }
  if (given.empty()) {
    const auto imported = train::latest_complete_checkpoint(c.out_dir);
    if (!imported) {
      c.model = configured_model(o);
      return;
    }
    given = *imported;  // only imports are there
    notes.push_back("pretrain: --out holds a model imported by electra import-hf (" + given +
                    "): training starts from its weights, as --init-from " + given + " would");
  }
  init = train::read_init_source(given, explicit_vocab ? c.vocab_path : "");
  if (c.init_optimizer) train::require_optimizer_state(*init);
  c.model =
      train::init_model_config(init->model->config, init->has_generator, "--init-from " + given,
                               explicit_model, model_name, assignments(o));
  c.vocab_path = init->vocab_path;
  c.init_from = given;
  c.init_record = init->record(c.init_optimizer);
  if (c.starts_from_corpus_counts()) {
    notes.push_back("pretrain: " + start_options(c) +
                    ": a fresh pair's start, not applied: the run starts from " + given +
                    "'s weights");
    c.word_rows_init = "random", c.output_bias_init = "zero";
  }
  const auto& g = c.model.generator;
  notes.push_back(
      "pretrain: initialised from " + given + " (" + init->kind + ", " + init->weights_dir + "): " +
      (init->has_generator
           ? std::string("discriminator and generator")
           : "the discriminator; the generator starts from random weights (hidden " +
                 std::to_string(g.hidden_size) + ", " + std::to_string(g.num_hidden_layers) +
                 " layers, " + std::to_string(g.num_attention_heads) + " heads, FFN " +
                 std::to_string(g.intermediate_size) + ")") +
      "; " +
      (c.init_optimizer ? "its optimizer moments, a new schedule from step 0"
                        : "a fresh optimizer and schedule from step 0"));
}

train::TrainConfig config_from(const po::variables_map& o) {
  train::TrainConfig c;
  c.data_dir = o["data"].as<std::string>();
  c.out_dir = o["out"].as<std::string>();
  c.vocab_path = o["vocab"].as<std::string>();
  c.init_optimizer = o["init-optimizer"].as<bool>();
  c.whole_word_masking = o["whole-word-masking"].as<bool>();
  c.word_rows_init = o["word-rows-init"].as<std::string>();
  c.output_bias_init = o["output-bias-init"].as<std::string>();
  c.train_steps = o["train-steps"].as<long long>();
  c.warmup_steps = o["warmup-steps"].as<long long>();
  c.batch_size = o["batch-size"].as<long long>();
  c.grad_accum = o["grad-accum"].as<long long>();
  c.learning_rate = o["learning-rate"].as<double>();
  c.optimizer = o["optimizer"].as<std::string>();
  c.weight_decay = o["weight-decay"].as<double>();
  c.adam_epsilon = o["adam-epsilon"].as<double>();
  c.clip_norm = o["clip-norm"].as<double>();
  c.mask_prob = o["mask-prob"].as<double>();
  c.temperature = o["temperature"].as<double>();
  c.generator_weight = o["gen-weight"].as<double>();
  c.discriminator_weight = o["disc-weight"].as<double>();
  c.generator_lr_scale = o["gen-lr-scale"].as<double>();
  c.strategy = o["strategy"].as<std::string>();
  c.adversarial_entropy = o["adversarial-entropy"].as<double>();
  c.adversarial_baseline_decay = o["adversarial-baseline-decay"].as<double>();
  c.adversarial_mlm_warmup = o["adversarial-mlm-warmup"].as<long long>();
  c.seed = o["seed"].as<uint64_t>();
  c.log_every = o["log-every"].as<long long>();
  c.eval_every = o["eval-every"].as<long long>();
  c.save_every = o["save-every"].as<long long>();
  c.keep_checkpoints = o["keep-checkpoints"].as<long long>();
  c.eval_examples = o["eval-examples"].as<long long>();
  c.stop_at = o["stop-at"].as<long long>();
  c.max_nonfinite_steps = o["max-nonfinite-steps"].as<long long>();
  c.check_replicas_every = o["check-replicas-every"].as<long long>();
  c.bucket_mb = o["bucket-mb"].as<double>();
  c.reduce_dtype = o["reduce-dtype"].as<std::string>();
  c.device = o["device"].as<std::string>();
  c.cuda_graph = o["cuda-graph"].as<bool>();
  c.fp32_matmul = o["fp32-matmul"].as<std::string>();
  if (c.init_optimizer && !o.count("init-from")) {
    throw UsageError(
        "--init-optimizer carries the optimizer state of --init-from SOURCE: give "
        "--init-from, or leave --init-optimizer out");
  }
  if (o.count("init-from") && (c.strategy == "two-stage" || c.strategy == "mlm")) {
    throw UsageError("--init-from with --strategy " + c.strategy +
                     ": it trains a generator of the discriminator's size from scratch; use "
                     "joint or adversarial");
  }
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (c.cuda_graph && (c.device == "cpu" || !torch::cuda::is_available())) {
    throw UsageError("--cuda-graph needs a CUDA device (" +
                     std::string(c.device == "cpu" ? "--device cpu" : "no CUDA device here") +
                     "); leave it out on the CPU");
  }
  if (c.cuda_graph && (c.grad_accum > 1 || c.strategy != "joint")) {
    throw UsageError(
        "--cuda-graph captures one micro-batch of the joint strategy: use it with "
        "--grad-accum 1 and --strategy joint");
  }
  return c;
}

int run(const po::variables_map& options) {
  train::TrainConfig config = config_from(options);
  std::optional<train::InitSource> init;
  std::vector<std::string> notes;
  try {
    resolve_start(options, config, init, notes);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  auto world = dist::make_world_communicator();
  apply_peer_timeout(options, *world);
  torch::set_num_threads(threads_per_rank(options["threads"].as<int>()));
  model::keep_freed_memory_in_process();
  train::catch_stop_signals();  // after MPI_Init: these are the handlers in place

  std::unique_ptr<train::Trainer> trainer;
  data::OutputLock lock;  // rank 0 holds the run directory's lock until the end
  try {
    run_phase(*world, "pretrain", [&] {
      if (world->is_root())
        lock = data::OutputLock::folder(config.out_dir, "--out", "electra pretrain");
    });
    if (world->is_root()) {
      for (const auto& note : notes) std::cout << note << "\n";
      std::cout << std::flush;
    }
    run_phase(*world, "pretrain", [&] {
      trainer = std::make_unique<train::Trainer>(config, *world,
                                                 options["resume"].as<bool>()
                                                     ? train::ResumeMode::kRequired
                                                     : train::ResumeMode::kIfPresent,
                                                 init ? &*init : nullptr);
    });
    // Once every rank is built: rank 0 counts while the others wait for it.
    run_phase(*world, "pretrain", [&] { trainer->start_from_corpus_counts(); });
  } catch (const PhaseFailed&) {
    return kExitFailure;
  }
  train::Trainer::Outcome outcome;
  try {
    outcome = trainer->run();
  } catch (const std::exception& e) {
    // The other ranks may be waiting in a collective: print this rank's error and end the job.
    std::cerr << "electra pretrain: " << dist::rank_prefix(*world) << user_message(e) << std::endl;
    if (world->size() > 1) world->abort(kExitFailure);
    return kExitFailure;
  }
  if (outcome == train::Trainer::Outcome::kInterrupted) return kExitInterrupted;
  if (world->is_root()) {
    std::cout << "pretrain: done; metrics " << config.out_dir << "/metrics.jsonl, checkpoints "
              << config.out_dir << "/checkpoints (electra export --checkpoint " << config.out_dir
              << " --out DIR), curves: electra plot " << config.out_dir << "\n";
  }
  return kExitOk;
}

}  // namespace

Command pretrain_command() {
  return {"pretrain",
          "Pretrain an ELECTRA generator/discriminator pair on prepared shards (mpirun: data "
          "parallel).",
          "--data DIR --out DIR [--config configs/small.ini] [--model PRESET] [--set FIELD=VALUE] "
          "[--init-from SOURCE]",
          declare,
          {},
          run};
}

}  // namespace electra::cli
