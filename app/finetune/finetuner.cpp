#include "app/finetune/finetuner.h"

#include <ATen/Functions.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>

#include "app/finetune/finetune_resume.h"
#include "app/finetune/task_family.h"
#include "app/model/autocast.h"
#include "app/train/device_choice.h"
#include "app/train/gradient_reducer.h"
#include "app/train/optimizer.h"
#include "app/train/rank_device.h"
#include "app/train/stop_signals.h"
#include "data/atomic_file.h"
#include "data/seed_hash.h"

namespace electra::finetune {

namespace fs = std::filesystem;

void FinetuneConfig::validate() const {
  const auto require = [](bool ok, const char* option, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("--") + option + " must be " + what);
  };
  require(!train_path.empty(), "train", "given");
  require(!dev_path.empty(), "dev", "given");
  require(!out_dir.empty(), "out", "given");
  require(epochs > 0, "epochs", "positive");
  require(batch_size > 0, "batch-size", "positive");
  require(max_seq_len == 0 || max_seq_len >= 8, "max-seq-len", "8 or more (0: the task's)");
  require(learning_rate > 0 && std::isfinite(learning_rate), "lr", "a positive number");
  require(layer_decay > 0 && layer_decay <= 1, "layer-decay", "in (0, 1]");
  require(reinit_layers >= 0, "reinit-layers", "0 or more");
  require(!random_init || reinit_layers == 0, "reinit-layers",
          "0 with --random-init (every layer is fresh then)");
  require(warmup_fraction >= 0 && warmup_fraction < 1, "warmup", "in [0, 1)");
  require(weight_decay >= 0 && std::isfinite(weight_decay), "weight-decay", "0 or more");
  require(doc_stride >= 0, "doc-stride", "0 (the task's) or more");
  require(max_query_len >= 1, "max-query-len", "1 or more");
  require(max_answer_len >= 1, "max-answer-len", "1 or more");
  require(n_best >= 1, "n-best", "1 or more");
  require(tag_column >= 0, "tag-column", "0 (the format's) or a 1-based column");
  require(tag_format == "auto" || tag_format == "conll" || tag_format == "conllu", "tag-format",
          "auto, conll or conllu");
  train::check_device_choice(device);
  task_type_from(task_type);
}

namespace {

// The model's task settings from the options; max_seq_len within the model's positions.
FinetunedModel settings_from(const FinetuneConfig& config, const model::ModelConfig& pair) {
  FinetunedModel finetuned;
  finetuned.type = task_type_from(config.task_type);
  const bool span = finetuned.type == TaskType::kSpan;
  finetuned.format = finetuned.type == TaskType::kToken ? config.tag_format : config.format;
  const long long positions = pair.max_position_embeddings;
  if (config.max_seq_len > positions) {
    throw std::invalid_argument("--max-seq-len " + std::to_string(config.max_seq_len) +
                                " is more than the model's " + std::to_string(positions) +
                                " positions (max_position_embeddings); pass at most " +
                                std::to_string(positions));
  }
  finetuned.max_seq_len = config.max_seq_len > 0 ? config.max_seq_len
                                                 : std::min<long long>(span ? 384 : 128, positions);
  finetuned.lowercase = config.lowercase;
  finetuned.span.doc_stride = config.doc_stride > 0 ? config.doc_stride : 128;
  finetuned.span.max_query_len = config.max_query_len;
  finetuned.span.max_answer_len = config.max_answer_len;
  finetuned.span.n_best = config.n_best;
  finetuned.tags.tag_column = config.tag_column;
  finetuned.tags.stride = config.doc_stride > 0
                              ? config.doc_stride
                              : std::max<long long>(1, (finetuned.max_seq_len - 2) / 2);
  return finetuned;
}

std::string format_epoch_line(long long epoch, long long epochs, double loss,
                              const std::string& metric, double value, bool improved,
                              double seconds) {
  char line[256];
  std::snprintf(line, sizeof line, "epoch %lld/%lld  train loss %.4f  dev %s %.4f%s  (%.0f s)",
                epoch, epochs, loss, metric.c_str(), value, improved ? "  best so far" : "",
                seconds);
  return line;
}

double metric_value(const nlohmann::json& metrics, const std::string& metric) {
  if (!metrics.contains(metric) || !metrics[metric].is_number()) {
    std::string known;
    for (const auto& [key, value] : metrics.items()) {
      if (value.is_number()) known += (known.empty() ? "" : ", ") + key;
    }
    throw std::invalid_argument("--metric " + metric + ": not a dev metric of this task (" + known +
                                ")");
  }
  return metrics[metric].get<double>();
}

// The encoder fine-tuning starts from: the pair's; or with --random-init the pair's own
// initialisation (normal(0, initializer_range), as pretraining starts, not LibTorch's module
// defaults); or with --reinit-layers the pair's with its top layers so drawn.
void load_starting_weights(FinetunedModel& finetuned, const FinetuneConfig& config,
                           model::ElectraModelImpl& pair) {
  if (config.random_init) {
    model::ElectraModel fresh(pair.config);
    finetuned.load_encoder_from(*fresh);
  } else if (config.reinit_layers > 0) {
    model::ElectraModel kept = model::with_fresh_top_layers(pair, config.reinit_layers);
    finetuned.load_encoder_from(*kept);
  } else {
    finetuned.load_encoder_from(pair);
  }
}

// A stop signal (SIGTERM, SIGUSR1, Ctrl-C) any rank received, agreed by all at a step boundary.
int agreed_stop_signal(dist::Communicator& communicator) {
  double received = double(train::stop_signal());
  if (communicator.size() > 1) communicator.all_reduce_sum(&received, 1);
  if (received == 0) return 0;
  return train::stop_signal() ? train::stop_signal() : SIGTERM;
}

}  // namespace

nlohmann::json finetune(const FinetuneConfig& config, model::ElectraModelImpl& pair,
                        const std::string& vocab_path, dist::Communicator& communicator) {
  config.validate();
  model::check_fresh_top_layers(pair.config, config.reinit_layers);  // before the data is read
  const bool root = communicator.is_root();
  const auto say = [&](const std::string& line) {
    if (root && !config.quiet) std::printf("%s\n", line.c_str()), std::fflush(stdout);
  };

  auto vocab = std::make_shared<const data::Vocabulary>(data::Vocabulary::load(vocab_path));
  const data::WordPieceTokenizer tokenizer(vocab, config.lowercase);
  FinetunedModel finetuned = settings_from(config, pair.config);
  const std::unique_ptr<TaskFamily> family = task_family(finetuned, tokenizer);
  std::string summary;
  const TrainingRows train = family->read_training(config.train_path, finetuned, summary);
  const std::string dev_summary = family->read_evaluation(finetuned, config.dev_path);
  say("finetune: " + summary + "; dev: " + dev_summary + "; " +
      std::to_string(communicator.size()) + " rank(s)");

  torch::manual_seed(config.seed);  // the head's initial weights: the same on every rank
  finetuned.create(pair.config);
  load_starting_weights(finetuned, config, pair);
  torch::nn::Module& model = finetuned.module();
  const torch::Device device =
      config.placed_on ? *config.placed_on : train::device_for(communicator, config.device);
  model.to(device);
  const long long n = train.count();
  const long long global_batch = config.batch_size * communicator.size();
  const long long steps_per_epoch = n / global_batch;
  if (steps_per_epoch == 0) {
    throw std::runtime_error(config.train_path + ": " + std::to_string(n) +
                             " training rows are fewer than one global batch of " +
                             std::to_string(global_batch) + "; use a smaller --batch-size");
  }
  // An interrupted fine-tune of these options continues where it stopped (finetune_resume.h).
  const nlohmann::json fingerprint =
      resume_fingerprint(config, communicator.size(), n, steps_per_epoch);
  const std::optional<FinetuneProgress> resumed =
      read_resume_state(config.out_dir, fingerprint, communicator);
  if (resumed) load_resume_weights(config.out_dir, model);

  train::AdamWOptions adam;
  adam.weight_decay = config.weight_decay;
  train::AdamW optimizer(model, adam);
  const int layers = int(pair.config.discriminator.num_hidden_layers);
  optimizer.set_lr_scales([&](const std::string& name) {
    return train::layerwise_lr_factor(finetuned.depth_of(name), layers, config.layer_decay);
  });
  if (resumed) load_resume_optimizer(config.out_dir, optimizer);
  train::GradientReducer reducer(model, communicator);

  const long long total_steps = steps_per_epoch * config.epochs;
  const long long warmup = (long long)(config.warmup_fraction * double(total_steps));
  const std::string metric =
      config.selection_metric.empty() ? family->default_metric(finetuned) : config.selection_metric;
  const std::string best_dir = (fs::path(config.out_dir) / "best").string();
  fs::create_directories(config.out_dir);
  // Each row's length (its mask's sum): a batch is cut to its longest row.
  const at::Tensor row_lengths = train.input_mask.sum(1).contiguous();
  const int64_t* lengths = row_lengths.data_ptr<int64_t>();

  FinetuneProgress at = resumed ? *resumed : FinetuneProgress();
  if (resumed) {
    say("finetune: resumed at epoch " + std::to_string(at.epoch) + ", step " +
        std::to_string(at.step_in_epoch) + " of " + std::to_string(steps_per_epoch));
  }
  const bool bf16 = device.is_cuda();
  const auto start = std::chrono::steady_clock::now();
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  for (long long epoch = at.epoch; epoch <= config.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    // The epoch's order: a permutation seeded by (seed, epoch), the same on every rank.
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t(0));
    std::mt19937_64 rng(data::mix_seed(config.seed, uint64_t(epoch), 0xF17E));
    std::shuffle(order.begin(), order.end(), rng);
    // The epoch's losses, read once an epoch (and when interrupted).
    at::Tensor loss_sum = at::full({}, epoch == at.epoch ? at.epoch_loss_sum : 0.0,
                                   at::TensorOptions().device(device));
    model.train();
    for (long long s = epoch == at.epoch ? at.step_in_epoch : 0; s < steps_per_epoch;
         ++s, ++at.step) {
      if (int signal = agreed_stop_signal(communicator)) {
        at.epoch = epoch, at.step_in_epoch = s, at.epoch_loss_sum = loss_sum.item<double>();
        at.train_seconds += seconds_since(epoch_start);
        if (root) save_resume(config.out_dir, fingerprint, at, model, optimizer);
        communicator.barrier();
        throw FinetuneInterrupted{signal, epoch, s};
      }
      const long long first = s * global_batch + communicator.rank() * config.batch_size;
      const int64_t* batch_rows = order.data() + first;
      int64_t length = 1;
      for (long long i = 0; i < config.batch_size; ++i) {
        length = std::max(length, lengths[batch_rows[i]]);
      }
      const at::Tensor rows =
          at::from_blob(const_cast<int64_t*>(batch_rows), {config.batch_size}, at::kLong).clone();
      const auto take = [&](const at::Tensor& t) {
        at::Tensor picked = t.index_select(0, rows);
        if (picked.dim() == 2) picked = picked.narrow(1, 0, std::min(length, picked.size(1)));
        return picked.to(device, /*non_blocking=*/false);
      };
      std::vector<at::Tensor> targets;
      for (const at::Tensor& t : train.targets) targets.push_back(take(t));
      torch::manual_seed(data::mix_seed(config.seed ^ 0xD0, uint64_t(at.step),
                                        uint64_t(communicator.rank())));  // dropout
      reducer.zero_gradients();
      reducer.before_backward(true);
      at::Tensor loss;
      {
        model::CudaBf16Autocast autocast(bf16);
        const at::Tensor out =
            finetuned
                .forward(take(train.input_ids), take(train.segment_ids), take(train.input_mask))
                .to(at::kFloat);
        loss = family->loss(out, targets);
      }
      loss.backward();
      reducer.finish();
      train::clip_gradient_norm(model, config.clip_norm);
      optimizer.step(
          train::scheduled_learning_rate(config.learning_rate, at.step, warmup, total_steps));
      loss_sum += loss.detach();
    }
    if (device.is_cuda()) loss_sum.item<double>();  // the epoch's steps done, for the timing
    at.train_seconds += seconds_since(epoch_start);
    const auto dev_start = Clock::now();
    Evaluation dev = family->evaluate(finetuned, config.dev_path, 64, communicator);
    at.dev_seconds += seconds_since(dev_start);
    at.dev_examples += dev.examples, at.dev_rows += dev.rows;
    bool improved = false;
    if (root) {
      family->choose_on_dev(finetuned, dev);
      const double value = metric_value(dev.metrics, metric);
      improved = value > at.best || at.best_epoch == 0;  // a NaN metric still keeps epoch 1
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      say(format_epoch_line(epoch, config.epochs, loss_sum.item<double>() / double(steps_per_epoch),
                            metric, value, improved, seconds));
      if (improved) at.best = value, at.best_metrics = dev.metrics, at.best_epoch = epoch;
    }
    improved = communicator.broadcast_from_root(improved ? "1" : "0") == "1";
    if (improved && root) {
      finetuned.info = {{"epoch", epoch},
                        {"dev", at.best_metrics},
                        {"selection_metric", metric},
                        {"source_model", config.model_dir},
                        {"random_init", config.random_init},
                        {"reinit_layers", config.reinit_layers}};
      // Copied to the host as it is written; the model stays on its device (a move would reset
      // the gradient accumulators and with them the reducer's overlap hooks).
      const std::string staging = best_dir + ".new";
      fs::remove_all(staging);
      save_finetuned(finetuned, vocab_path, staging);
      replace_folder(staging, best_dir);
      data::write_file_atomically(
          (fs::path(config.out_dir) / family->predictions_name("dev")).string(), dev.predictions);
    }
    communicator.barrier();
    // A stop asked for during the evaluation: saved at the next epoch's start (after the last
    // epoch: only the test evaluation is left to do).
    if (int signal = agreed_stop_signal(communicator)) {
      at.epoch = epoch + 1, at.step_in_epoch = 0, at.epoch_loss_sum = 0;
      if (root) save_resume(config.out_dir, fingerprint, at, model, optimizer);
      communicator.barrier();
      throw FinetuneInterrupted{signal, epoch + 1, 0};
    }
  }

  // The best model on the test file.
  nlohmann::json results = {
      {"task", finetuned.format},
      {"task_type", to_string(finetuned.type)},
      {"model", config.model_dir},
      {"random_init", config.random_init},
      {"best_epoch", at.best_epoch},
      {"selection_metric", metric},
      {"dev", at.best_metrics},
      {"dev_predictions", (fs::path(config.out_dir) / family->predictions_name("dev")).string()},
      {"best_model", best_dir},
      // What was trained, on what: a sweep adopts a finished cell only when these match.
      {"settings",
       {{"train", config.train_path},
        {"dev", config.dev_path},
        {"test", config.test_path},
        {"learning_rate", config.learning_rate},
        {"seed", config.seed},
        {"epochs", config.epochs},
        {"reinit_layers", config.reinit_layers}}}};
  // Throughput over all ranks (training rows include SQuAD's and long sentences' windows).
  const long long trained_rows = steps_per_epoch * global_batch * config.epochs;
  results["throughput"] = {
      {"ranks", communicator.size()},
      {"train_rows", trained_rows},
      {"train_seconds", at.train_seconds},
      {"train_rows_per_second", double(trained_rows) / std::max(at.train_seconds, 1e-9)},
      {"dev_examples_per_second", double(at.dev_examples) / std::max(at.dev_seconds, 1e-9)},
      {"dev_rows_per_second", double(at.dev_rows) / std::max(at.dev_seconds, 1e-9)}};
  if (!config.test_path.empty()) {
    FinetunedModel kept = load_finetuned(best_dir);
    kept.module().to(device);
    const Evaluation test = family->evaluate(kept, config.test_path, 64, communicator);
    if (root) {
      const std::string path =
          (fs::path(config.out_dir) / family->predictions_name("test")).string();
      data::write_file_atomically(path, test.predictions);
      results["test_predictions"] = path;
      if (!test.metrics.empty()) results["test"] = test.metrics;
    }
  }
  if (!root) return nlohmann::json();
  if (!config.keep_model) results.erase("best_model");
  data::write_file_atomically((fs::path(config.out_dir) / "results.json").string(),
                              results.dump(2) + "\n");
  fs::remove_all(fs::path(config.out_dir) / kResumeFolder);  // the run is whole now
  if (!config.keep_model) fs::remove_all(best_dir);
  return results;
}

}  // namespace electra::finetune
