#include "app/train/finetuner.h"

#include <ATen/Functions.h>
#include <torch/cuda.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "app/model/autocast.h"
#include "app/train/finetuned_model.h"
#include "app/train/gradient_reducer.h"
#include "app/train/optimizer.h"
#include "app/train/rank_device.h"
#include "app/train/task_metrics.h"
#include "data/atomic_file.h"
#include "data/shard_set_writer.h"

namespace electra::train {

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
  require(max_seq_len >= 8, "max-seq-len", "8 or more");
  require(learning_rate > 0, "lr", "positive");
  require(layer_decay > 0 && layer_decay <= 1, "layer-decay", "in (0, 1]");
  require(warmup_fraction >= 0 && warmup_fraction < 1, "warmup", "in [0, 1)");
  require(weight_decay >= 0, "weight-decay", "0 or more");
  check_device_choice(device);
  task_type_from(task_type);
}

namespace {

// Predictions for all rows of `task`, each rank predicting a contiguous share, gathered to rank 0
// (the other ranks get empty predictions).
Predictions predict_all(model::SequenceClassifierImpl& model, const EncodedTask& task,
                        TaskType type, long long batch_size, dist::Communicator& communicator) {
  const long long n = task.input_ids.size(0);
  const long long first = n * communicator.rank() / communicator.size();
  const long long last = n * (communicator.rank() + 1) / communicator.size();
  const Predictions mine = predict(model, task, type, first, last - first, batch_size);
  const nlohmann::json part = {{"classes", mine.classes}, {"values", mine.values}};
  Predictions all;
  for (const std::string& text : communicator.gather_to_root(part.dump())) {
    const auto json = nlohmann::json::parse(text);
    for (int c : json["classes"]) all.classes.push_back(c);
    for (double v : json["values"]) all.values.push_back(v);
  }
  return all;
}

std::string main_metric(const FinetuneConfig& config, const std::string& format, TaskType type) {
  if (!config.selection_metric.empty()) return config.selection_metric;
  if (type == TaskType::kRegression) return "pearson_spearman_mean";
  return format == "cola" ? "matthews_corr" : "accuracy";
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

}  // namespace

nlohmann::json finetune(const FinetuneConfig& config, model::ElectraModelImpl& pair,
                        const std::string& vocab_path, dist::Communicator& communicator) {
  config.validate();
  const TaskType type = task_type_from(config.task_type);
  const bool root = communicator.is_root();
  const auto say = [&](const std::string& line) {
    if (root && !config.quiet) std::printf("%s\n", line.c_str()), std::fflush(stdout);
  };

  auto vocab = std::make_shared<const data::Vocabulary>(data::Vocabulary::load(vocab_path));
  const data::WordPieceTokenizer tokenizer(vocab, config.lowercase);

  const data::TaskFile train_file = data::read_task_file(config.train_path, config.format);
  if (!train_file.labelled) throw std::runtime_error(config.train_path + ": has no labels");
  const data::TaskFile dev_file = data::read_task_file(config.dev_path, train_file.format);
  if (!dev_file.labelled) throw std::runtime_error(config.dev_path + ": has no labels");
  const LabelSet labels =
      type == TaskType::kClassification ? LabelSet::from_examples(train_file.examples) : LabelSet();
  if (type == TaskType::kClassification && labels.size() < 2) {
    throw std::runtime_error(config.train_path +
                             ": a classification task needs at least two labels");
  }
  const EncodedTask train = encode_task(train_file, tokenizer, config.max_seq_len, type, labels);
  const EncodedTask dev = encode_task(dev_file, tokenizer, config.max_seq_len, type, labels);
  say("finetune: " + train_file.format + " task, " + std::to_string(train_file.examples.size()) +
      " train / " + std::to_string(dev_file.examples.size()) + " dev examples (" +
      std::to_string(train.truncated) + " train examples truncated to " +
      std::to_string(config.max_seq_len) + " tokens), " + to_string(type) +
      (type == TaskType::kClassification ? " over " + std::to_string(labels.size()) + " labels"
                                         : std::string()) +
      ", " + std::to_string(communicator.size()) + " rank(s)");

  torch::manual_seed(config.seed);  // the head's initial weights: the same on every rank
  const int64_t outputs = type == TaskType::kRegression ? 1 : labels.size();
  FinetunedModel finetuned;
  finetuned.model = model::SequenceClassifier(pair.config, outputs);
  if (config.random_init) {
    // The pair's own initialisation (normal(0, initializer_range), as pretraining starts), not
    // LibTorch's module defaults.
    model::ElectraModel fresh(pair.config);
    finetuned.model->load_encoder_from(*fresh);
  } else {
    finetuned.model->load_encoder_from(pair);
  }
  finetuned.type = type, finetuned.labels = labels, finetuned.max_seq_len = config.max_seq_len;
  finetuned.lowercase = config.lowercase;
  model::SequenceClassifierImpl& model = *finetuned.model;
  const torch::Device device =
      config.placed_on ? *config.placed_on : device_for(communicator, config.device);
  model.to(device);

  AdamWOptions adam;
  adam.weight_decay = config.weight_decay;
  AdamW optimizer(model, adam);
  const int layers = int(pair.config.discriminator.num_hidden_layers);
  optimizer.set_lr_scales([&](const std::string& name) {
    return layerwise_lr_factor(model.depth_of(name), layers, config.layer_decay);
  });
  GradientReducer reducer(model, communicator);

  const long long n = train.input_ids.size(0);
  const long long global_batch = config.batch_size * communicator.size();
  const long long steps_per_epoch = n / global_batch;
  if (steps_per_epoch == 0) {
    throw std::runtime_error(config.train_path + ": " + std::to_string(n) +
                             " examples are fewer than one global batch of " +
                             std::to_string(global_batch) + "; use a smaller --batch-size");
  }
  const long long total_steps = steps_per_epoch * config.epochs;
  const long long warmup = (long long)(config.warmup_fraction * double(total_steps));
  const std::string metric = main_metric(config, train_file.format, type);
  const std::string best_dir = (fs::path(config.out_dir) / "best").string();
  fs::create_directories(config.out_dir);

  double best = -1e300;
  nlohmann::json best_metrics;
  long long step = 0, best_epoch = 0;
  const bool bf16 = device.is_cuda();
  const auto start = std::chrono::steady_clock::now();
  for (long long epoch = 1; epoch <= config.epochs; ++epoch) {
    // The epoch's order: a permutation seeded by (seed, epoch), the same on every rank.
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t(0));
    std::mt19937_64 rng(data::mix_seed(config.seed, uint64_t(epoch), 0xF17E));
    std::shuffle(order.begin(), order.end(), rng);
    at::Tensor loss_sum = at::zeros({}, at::TensorOptions().device(device));  // read once an epoch
    model.train();
    for (long long s = 0; s < steps_per_epoch; ++s, ++step) {
      const long long first = s * global_batch + communicator.rank() * config.batch_size;
      const at::Tensor rows =
          at::from_blob(order.data() + first, {config.batch_size}, at::kLong).clone();
      const auto take = [&](const at::Tensor& t) { return t.index_select(0, rows).to(device); };
      torch::manual_seed(data::mix_seed(config.seed ^ 0xD0, uint64_t(step),
                                        uint64_t(communicator.rank())));  // dropout
      reducer.zero_gradients();
      reducer.before_backward(true);
      at::Tensor loss;
      {
        model::CudaBf16Autocast autocast(bf16);
        const at::Tensor out =
            model.forward(take(train.input_ids), take(train.segment_ids), take(train.input_mask))
                .to(at::kFloat);
        loss = type == TaskType::kRegression ? at::mse_loss(out.squeeze(-1), take(train.targets))
                                             : at::cross_entropy_loss(out, take(train.targets));
      }
      loss.backward();
      reducer.finish();
      clip_gradient_norm(model, config.clip_norm);
      optimizer.step(scheduled_learning_rate(config.learning_rate, step, warmup, total_steps));
      loss_sum += loss.detach();
    }
    const Predictions predictions = predict_all(model, dev, type, 64, communicator);
    bool improved = false;
    if (root) {
      nlohmann::json metrics = task_metrics(predictions, dev, type, labels);
      const double value = metrics.at(metric).get<double>();
      improved = value > best;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      say(format_epoch_line(epoch, config.epochs, loss_sum.item<double>() / double(steps_per_epoch),
                            metric, value, improved, seconds));
      if (improved) best = value, best_metrics = metrics, best_epoch = epoch;
    }
    improved = communicator.broadcast_from_root(improved ? "1" : "0") == "1";
    if (improved && root) {
      finetuned.info = {{"format", train_file.format},
                        {"epoch", epoch},
                        {"dev", best_metrics},
                        {"selection_metric", metric},
                        {"source_model", config.model_dir},
                        {"random_init", config.random_init}};
      model.to(torch::kCPU);
      const std::string staging = best_dir + ".new";
      fs::remove_all(staging);
      save_finetuned(finetuned, vocab_path, staging);
      fs::remove_all(best_dir);
      fs::rename(staging, best_dir);
      model.to(device);
    }
    communicator.barrier();
  }

  // The best model on the test file.
  nlohmann::json summary = {{"task", train_file.format}, {"task_type", to_string(type)},
                            {"model", config.model_dir}, {"random_init", config.random_init},
                            {"best_epoch", best_epoch},  {"selection_metric", metric},
                            {"dev", best_metrics},       {"best_model", best_dir}};
  if (!config.test_path.empty()) {
    FinetunedModel kept = load_finetuned(best_dir);
    kept.model->to(device);
    const data::TaskFile test_file = data::read_task_file(config.test_path, train_file.format);
    const EncodedTask test = encode_task(test_file, tokenizer, config.max_seq_len, type, labels);
    const Predictions predictions = predict_all(*kept.model, test, type, 64, communicator);
    if (root) {
      const std::string path = (fs::path(config.out_dir) / "test_predictions.tsv").string();
      write_predictions(path, predictions, type, labels);
      summary["test_predictions"] = path;
      if (test_file.labelled) summary["test"] = task_metrics(predictions, test, type, labels);
    }
  }
  if (!root) return nlohmann::json();
  if (!config.keep_model) {
    fs::remove_all(best_dir);
    summary.erase("best_model");
  }
  data::write_file_atomically((fs::path(config.out_dir) / "results.json").string(),
                              summary.dump(2) + "\n");
  return summary;
}

}  // namespace electra::train
