#include "app/train/trainer.h"

#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/model/autocast.h"
#include "app/train/batch_staging.h"
#include "app/train/checkpoint_files.h"
#include "app/train/corpus_start.h"
#include "app/train/fp32_matmul.h"
#include "app/train/host_to_device.h"
#include "app/train/init_source.h"
#include "app/train/rank_device.h"
#include "app/train/replica_check.h"
#include "app/train/step_flops.h"
#include "app/train/step_phases.h"
#include "app/train/stop_signals.h"
#include "app/train/whole_word_masking.h"
#include "data/atomic_file.h"
#include "data/seed_hash.h"

namespace electra::train {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kDropoutSalt = 0xD809, kEvalSalt = 0xE7A1;

// "1h02m", "3m05s", "12s"
std::string duration_text(double seconds) {
  const long long s = std::llround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, s / 60 % 60);
  else if (s >= 60)
    std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%llds", s);
  return text;
}

Batch on_device(Batch batch, const torch::Device& device) {
  for (at::Tensor* field : {&batch.input_ids, &batch.input_mask, &batch.segment_ids}) {
    *field = to_device_async(*field, device);
  }
  return batch;
}

// Faults injected for tests, from the environment as VARIABLE=RANK:STEP[:COUNT] (COUNT 1 when
// absent). ELECTRA_INJECT_FAILURE: that rank throws as it starts step STEP (one rank's failure
// must end the job, not leave the others waiting). ELECTRA_INJECT_NONFINITE: that rank's loss is
// NaN for COUNT steps from STEP (the step is skipped on every rank; too many stop training).
// ELECTRA_INJECT_HANG: that rank stops responding as it starts step STEP (the others must give
// up after the peer deadline, --peer-timeout, not wait forever). ELECTRA_INJECT_DIVERGENCE: that
// rank's parameters drift from the others' after step STEP (--check-replicas-every must notice).
// ELECTRA_INJECT_NONFINITE_WEIGHTS: that rank's update of step STEP leaves a NaN in its
// parameters (an update that overflowed: training must stop before anything is saved).
constexpr const char* kInjectNonfiniteWeights = "ELECTRA_INJECT_NONFINITE_WEIGHTS";
constexpr const char* kInjectFailure = "ELECTRA_INJECT_FAILURE";
constexpr const char* kInjectNonfinite = "ELECTRA_INJECT_NONFINITE";
constexpr const char* kInjectHang = "ELECTRA_INJECT_HANG";
constexpr const char* kInjectDivergence = "ELECTRA_INJECT_DIVERGENCE";

struct InjectedFault {
  int rank = -1;
  long long first = -1, count = 0;
  bool hits(int my_rank, long long step) const {
    return my_rank == rank && step >= first && step < first + count;
  }
};

InjectedFault injected_fault(const char* variable) {
  const char* value = std::getenv(variable);
  InjectedFault fault;
  fault.count = 1;
  if (!value || std::sscanf(value, "%d:%lld:%lld", &fault.rank, &fault.first, &fault.count) < 2) {
    return InjectedFault{};
  }
  return fault;
}

bool every(long long step, long long period) {
  return period > 0 && step % period == 0;
}

// Checks that the corpus fits the model and the vocabulary before anything is built.
data::Manifest check_data(const TrainConfig& config, const data::Vocabulary& vocab) {
  if (!fs::is_directory(config.data_dir)) {
    throw std::runtime_error(config.data_dir +
                             ": no such data directory; run electra prepare "
                             "first and pass its --out as --data");
  }
  data::Manifest manifest = data::Manifest::load(config.data_dir);
  if (!config.init_from.empty()) {  // the model and its vocabulary come from the source
    const std::string source = "--init-from " + config.init_from;
    if (manifest.vocab_sha256 != vocab.sha256()) {
      throw std::runtime_error(
          "--data " + config.data_dir + ": prepared with another vocabulary than " + source +
          "'s (" + config.vocab_path + "); prepare the corpus with --vocab " + config.vocab_path);
    }
    if (manifest.max_seq_length > config.model.max_position_embeddings) {
      throw std::runtime_error(
          "--data " + config.data_dir + ": sequences of " +
          std::to_string(manifest.max_seq_length) + " tokens, but " + source + " has " +
          std::to_string(config.model.max_position_embeddings) +
          " positions (its trained position embeddings cannot grow); prepare the corpus with "
          "--seq-len " +
          std::to_string(config.model.max_position_embeddings) + " or less");
    }
  }
  if (manifest.vocab_sha256 != vocab.sha256()) {
    throw std::runtime_error(config.data_dir + ": prepared with another vocabulary than " +
                             config.vocab_path +
                             "; pass the vocabulary it was made with as --vocab");
  }
  if (int64_t(vocab.size()) != config.model.vocab_size) {
    throw std::runtime_error(config.vocab_path + " has " + std::to_string(vocab.size()) +
                             " tokens but the model's vocab_size is " +
                             std::to_string(config.model.vocab_size) +
                             "; use --set vocab_size=" + std::to_string(vocab.size()));
  }
  if (manifest.max_seq_length > config.model.max_position_embeddings) {
    throw std::runtime_error(
        config.data_dir + ": sequences of " + std::to_string(manifest.max_seq_length) +
        " tokens, but the model has " + std::to_string(config.model.max_position_embeddings) +
        " positions; use --set max_position_embeddings=" + std::to_string(manifest.max_seq_length) +
        " or prepare shorter sequences");
  }
  return manifest;
}

void check_writable(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  const std::string probe = (fs::path(dir) / ".write-test").string();
  std::ofstream file(probe);
  if (error || !(file << "ok") || !file.flush()) {
    throw std::runtime_error(dir + ": cannot write the output directory" +
                             (error ? " (" + error.message() + ")" : std::string()) +
                             "; choose another --out");
  }
  file.close();
  fs::remove(probe, error);
}

}  // namespace

struct Trainer::StepFigures {
  at::Tensor loss, mlm_loss, disc_loss, grad_norm;  // scalars on the device
  // A bool scalar on the device: the update was applied (every rank's loss and the averaged
  // gradients were finite); false: the step was skipped.
  at::Tensor applied;
  double lr = 0;
  Objective objective = Objective::kJoint;
  bool reinforce = false;  // the generator trained by REINFORCE this step (--strategy adversarial)
  at::Tensor entropy;      // then: the sum over this rank's micro-batches, on the device
  at::Tensor reward;       // then: the mean reward over ranks and micro-batches, on the device
  int stop_signal = 0;     // the signal some rank received (agreed by all at a check), or 0
};

Trainer::Trainer(TrainConfig config, dist::Communicator& communicator, ResumeMode resume,
                 const InitSource* init)
    : config_(std::move(config)),
      communicator_(communicator),
      vocab_(data::Vocabulary::load(config_.vocab_path)) {
  config_.validate();
  config_.model.validate("the model configuration");
  const std::string said =
      reshape_for_strategy(config_.model, config_.strategy, config_.train_steps);
  if (!said.empty() && communicator_.is_root()) std::printf("pretrain: %s\n", said.c_str());
  const data::Manifest manifest = check_data(config_, vocab_);
  check_writable(config_.out_dir);
  const auto latest = latest_training_checkpoint(config_.out_dir);
  if (init && !latest) {
    // The run keeps its own copy of the source's vocabulary: its checkpoints copy it on.
    const std::string copy = (fs::path(config_.out_dir) / kVocabFile).string();
    if (communicator_.is_root()) {
      std::ifstream in(config_.vocab_path, std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      if (!in && !in.eof()) throw std::runtime_error(config_.vocab_path + ": cannot read it");
      data::write_file_atomically(copy, bytes);
    }
    config_.vocab_path = copy;
  }

  step_options_.masking.mask_prob = config_.mask_prob;
  step_options_.masking.max_predictions =
      max_predictions_per_seq(config_.mask_prob, manifest.max_seq_length);
  step_options_.masking.mask_id = vocab_.special().mask;
  step_options_.masking.cls_id = vocab_.special().cls;
  step_options_.masking.sep_id = vocab_.special().sep;
  if (config_.whole_word_masking) {
    continuation_.assign(vocab_.size(), 0);
    for (size_t id = 0; id < vocab_.size(); ++id) {
      continuation_[id] = vocab_.token(int32_t(id)).rfind("##", 0) == 0;
    }
  }
  step_options_.temperature = config_.temperature;
  step_options_.generator_weight = config_.generator_weight;
  step_options_.discriminator_weight = config_.discriminator_weight;
  step_options_.entropy_weight = config_.adversarial_entropy;
  device_ = device_for(communicator_, config_.device);
  if (device_.is_cuda()) use_cuda_fp32_matmul(config_.fp32_matmul);
  reward_baseline_ = RewardBaseline(config_.adversarial_baseline_decay, device_);

  torch::manual_seed(config_.seed);  // the same initial weights on every rank
  model_ = model::ElectraModel(config_.model);
  model_->to(device_);
  AdamWOptions adam;
  adam.weight_decay = config_.weight_decay;
  adam.eps = config_.adam_epsilon;
  adam.lamb = config_.optimizer == "lamb";
  optimizer_ = std::make_unique<AdamW>(*model_, adam);
  if (config_.generator_lr_scale != 1) {
    optimizer_->set_lr_scales([&](const std::string& name) {
      return model::is_generators_own(name) ? config_.generator_lr_scale : 1.0;
    });
  }
  GradientReducerOptions reduction;
  reduction.bucket_megabytes = config_.bucket_mb;
  reduction.wire_type =
      config_.reduce_dtype == "bf16" ? dist::ElementType::kBfloat16 : dist::ElementType::kFloat32;
  gradients_ = std::make_unique<GradientReducer>(*model_, communicator_, reduction);
  stager_ = std::make_unique<BatchStager>(device_);
  lr_ = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device_));
  if (config_.cuda_graph) {
    if (communicator_.size() > 1 || config_.grad_accum > 1 || config_.strategy != "joint") {
      throw std::invalid_argument(
          "--cuda-graph captures the step of one rank with one micro-batch and the joint "
          "strategy (" +
          std::to_string(communicator_.size()) + " rank(s), --grad-accum " +
          std::to_string(config_.grad_accum) + ", --strategy " + config_.strategy +
          "); leave it out, or run one rank with --grad-accum 1");
    }
    graph_ = std::make_unique<StepGraph>(device_);
    graph_figures_ = std::make_unique<StepFigures>();
  }
  skipped_ = at::zeros({kMaxCheckEvery}, at::TensorOptions().dtype(at::kFloat).device(device_));

  data::BatchLoaderOptions loading;
  loading.rank = communicator_.rank(), loading.world = communicator_.size();
  loading.batch_size = config_.batch_size;
  loading.seed = config_.seed;
  loader_ =
      std::make_unique<data::BatchLoader>(config_.data_dir, vocab_, manifest.lowercase, loading);
  if (manifest.split("validation").empty()) {
    throw std::runtime_error(config_.data_dir +
                             ": the corpus has no validation shards to "
                             "evaluate on; prepare it with --val-fraction above 0");
  }
  eval_batches_ = std::make_unique<data::EvalBatches>(
      config_.data_dir, vocab_, manifest.lowercase, "validation", communicator_.rank(),
      communicator_.size(), config_.batch_size, config_.eval_examples);

  if (resume == ResumeMode::kRequired && !latest) {
    throw std::runtime_error(config_.out_dir +
                             ": --resume, but there is no complete checkpoint "
                             "under " +
                             config_.out_dir + "/" + kCheckpointsFolder);
  }
  if (init && !latest) {
    copy_init_weights(*init, *model_);
    if (config_.init_optimizer) load_init_optimizer(*init, *optimizer_);
  }
  corpus_start_pending_ = !init && !latest && config_.starts_from_corpus_counts();
  lowercase_ = manifest.lowercase;
  if (latest) {
    const LoadedCheckpoint loaded =
        load_training_checkpoint(*latest, communicator_.rank(), communicator_.size(),
                                 {model_.get(), optimizer_.get(), &config_, vocab_.sha256()});
    position_ = loaded.position;
    if (position_.epoch_rows > loader_->total_rows()) {  // a run resumed on another corpus
      throw std::runtime_error(*latest + ": the run stopped at row " +
                               std::to_string(position_.epoch_rows) + " of epoch " +
                               std::to_string(position_.epoch) + ", but --data " +
                               config_.data_dir + " has " + std::to_string(loader_->total_rows()) +
                               " training rows: pass the --data the run was trained on (its " +
                               kTrainConfigFile + " names it), or start a new --out");
    }
    reward_baseline_.restore(position_.reward_baseline, position_.baseline_updates);
    resumed_from_ = position_.step;
    const long long global_batch = config_.batch_size * config_.grad_accum * communicator_.size();
    if (communicator_.is_root() &&
        (loaded.world_size != communicator_.size() || loaded.global_batch != global_batch)) {
      std::printf(
          "pretrain: the checkpoint was written by %d rank(s) with global batch %lld, now %d "
          "rank(s) with global batch %lld; the data continue at row %lld of epoch %lld\n",
          loaded.world_size, loaded.global_batch, communicator_.size(), global_batch,
          position_.epoch_rows, position_.epoch);
    }
  }
  if (communicator_.is_root()) {
    log_ = std::make_unique<MetricsLog>(config_.out_dir, position_.step);
    data::write_file_atomically((fs::path(config_.out_dir) / kTrainConfigFile).string(),
                                config_.to_json().dump(2) + "\n");
  }
}

Trainer::~Trainer() = default;

Batch Trainer::to_tensors(const data::RowBatch& rows) const {
  const auto column = [&](const auto& values, at::ScalarType type) {
    return torch::from_blob(const_cast<void*>(static_cast<const void*>(values.data())),
                            {rows.rows, rows.length}, torch::TensorOptions().dtype(type))
        .to(torch::kLong);
  };
  return {column(rows.input_ids, torch::kInt), column(rows.input_mask, torch::kByte),
          column(rows.segment_ids, torch::kByte)};
}

void Trainer::tag_stage(nlohmann::json& record) const {
  if (two_stage()) record["stage"] = phase_name(phase_of_step(position_.step, config_.train_steps));
}

Objective Trainer::objective_of_next_step() const {
  if (mlm_only()) return Objective::kGeneratorOnly;
  if (two_stage()) {
    return phase_of_step(position_.step + 1, config_.train_steps) == TwoStagePhase::kGenerator
               ? Objective::kGeneratorOnly
               : Objective::kDiscriminatorOnly;
  }
  if (config_.strategy == "adversarial" && position_.step >= config_.adversarial_mlm_warmup) {
    return Objective::kAdversarial;
  }
  return Objective::kJoint;
}

Trainer::StepFigures Trainer::train_step() {
  if (two_stage()) {
    enter_phase(*model_, phase_of_step(position_.step + 1, config_.train_steps));
  } else if (mlm_only()) {
    enter_phase(*model_, TwoStagePhase::kGenerator);  // the discriminator, a copy, stays frozen
  } else {
    model_->train();
  }
  mark_step_begin(position_.step + 1);
  std::optional<StepPhaseScope> phase(std::in_place, StepPhase::kLoading);
  const PreparedStep prepared =
      counted_next_ ? std::move(*counted_next_) : counted_step_batches();  // the first step
  counted_next_.reset();
  position_.epoch = prepared.epoch, position_.epoch_rows = prepared.epoch_rows;  // now taken
  const std::vector<data::RowBatch>& micro_rows = prepared.micro_rows;
  const std::vector<HostBatchInfo>& infos = prepared.infos;
  StepFigures figures;
  figures.objective = step_options_.objective = objective_of_next_step();
  figures.reinforce = figures.objective == Objective::kAdversarial;
  step_options_.reward_baseline_tensor = reward_baseline_.tensor();
  figures.lr = two_stage() ? two_stage_learning_rate(config_.learning_rate, position_.step,
                                                     config_.warmup_steps, config_.train_steps)
                           : scheduled_learning_rate(config_.learning_rate, position_.step,
                                                     config_.warmup_steps, config_.train_steps);
  lr_.fill_(figures.lr);
  if (graph_) {
    // The step's inputs go where the captured graph reads them; dropout is seeded here, outside.
    const bool padded = stager_->copy_to_device_buffer(micro_rows.front(), infos.front());
    torch::manual_seed(dropout_seed(0));
    phase.reset();
    graph_figures_->objective = figures.objective, graph_figures_->reinforce = figures.reinforce;
    const double lr = figures.lr;
    if (graph_->captured() && padded && !graph_masks_) {
      // Captured without the mask, which this batch needs: eagerly, into figures of its own (the
      // graph's tensors must stay the ones its replays write).
      StepFigures eager;
      eager.objective = figures.objective, eager.reinforce = figures.reinforce;
      graph_->run_eagerly([&] { device_step(micro_rows, infos, eager); });
      figures = eager;
    } else {
      if (!graph_->captured()) graph_masks_ = padded;  // the batch it is captured for decides
      graph_->run([&] { device_step(micro_rows, infos, *graph_figures_); });
      announce_graph();
      figures = *graph_figures_;
    }
    figures.lr = lr;
  } else {
    phase.reset();
    device_step(micro_rows, infos, figures);
  }
  phase.emplace(StepPhase::kBoundary);
  const long long slot = position_.step + 1 - window_first_;
  skipped_.select(0, slot).copy_(figures.applied.logical_not());
  static const InjectedFault overflow = injected_fault(kInjectNonfiniteWeights);
  if (overflow.hits(communicator_.rank(), position_.step + 1)) {
    optimizer_->flat().groups().front().values.view(-1)[0].fill_(std::nan(""));
  }
  phase.reset();
  ++position_.step;
  if (two_stage() && position_.step == config_.train_steps / 2) {
    // The stage boundary, before this step's evaluation and checkpoint: a checkpoint from here
    // on holds the initialised discriminator.
    initialise_discriminator_from_generator(*model_);  // frozen by the next step's enter_phase
    if (communicator_.is_root()) {
      std::printf(
          "pretrain: step %lld: the generator is trained and frozen; the discriminator starts "
          "from its weights\n",
          position_.step);
    }
  }
  const InjectedFault divergence = injected_fault(kInjectDivergence);
  if (divergence.hits(communicator_.rank(), position_.step)) {
    torch::NoGradGuard no_grad;
    model_->parameters().front().add_(1e-3);
  }
  if (every(position_.step, config_.check_replicas_every)) {
    check_replicas_identical(*model_, communicator_, position_.step);
  }
  if (position_.step < config_.train_steps && position_.step != config_.stop_at) {
    // The next step's counts are added over the ranks while the device runs this one, so that
    // its launch waits for no rank (nor does the launch after a boundary check's read).
    phase.emplace(StepPhase::kLoading);
    counted_next_ = counted_step_batches();
  }
  return figures;
}

// The losses of a step are global means: every rank divides its sums by the global counts of
// masked positions and real tokens over all micro-batches and ranks (divided by the number of
// ranks, since gradients are averaged), so 2 ranks x b train as 1 rank x 2b. The counts come
// from the host copy of the batches, prepared ahead (step_batches.h), not counted by the device.
PreparedStep Trainer::counted_step_batches() {
  PreparedStep prepared = step_batches_->next();
  if (prepared.step != position_.step + 1) {
    throw std::logic_error("Trainer: prepared step " + std::to_string(prepared.step) +
                           " for step " + std::to_string(position_.step + 1));
  }
  double* counts = prepared.counts;
  {
    dist::NamedWaits waits(communicator_,
                           "the token counts of step " + std::to_string(prepared.step));
    communicator_.all_reduce_sum(counts, 2);
  }
  for (auto& info : prepared.infos) {
    info.denominators = {float(std::max(counts[0], 1.0) / communicator_.size()),
                         float(std::max(counts[1], 1.0) / communicator_.size())};
  }
  return prepared;
}

// Once, when the step is captured: whether its attention takes the mask.
void Trainer::announce_graph() {
  if (graph_announced_ || !graph_->captured()) return;
  graph_announced_ = true;
  if (!communicator_.is_root()) return;
  std::printf("pretrain: step %lld: the step is captured in a CUDA graph, %s\n", position_.step + 1,
              graph_masks_ ? "attention with the padding mask (the captured batch had padding)"
                           : "attention without a mask (flash kernels; a batch with padding runs "
                             "eagerly)");
  std::fflush(stdout);
}

// Keyed by the micro-batch's slot in the step's global batch, as the rows' keys are
// (train_row_keys), not by the rank: the same rows get the same dropout whatever their split
// across ranks and micro-batches of one size (a run resumed on half the hosts with twice the
// accumulation trains as before, up to the order of the gradient sums).
long long Trainer::dropout_seed(long long micro) const {
  return (long long)data::mix_seed(config_.seed ^ kDropoutSalt, uint64_t(position_.step),
                                   uint64_t(micro * communicator_.size() + communicator_.rank()));
}

void Trainer::device_step(const std::vector<data::RowBatch>& micro_rows,
                          const std::vector<HostBatchInfo>& infos, StepFigures& figures) {
  std::optional<StepPhaseScope> phase(std::in_place, StepPhase::kOptimizer);
  gradients_->zero_gradients();
  const bool bf16 = device_.is_cuda();
  at::Tensor& extras = gradients_->extras();  // [0] non-finite losses, [1] rewards: over ranks
  figures.loss = figures.mlm_loss = figures.disc_loss = figures.entropy = at::Tensor();
  for (long long micro = 0; micro < config_.grad_accum; ++micro) {
    phase.emplace(StepPhase::kLoading);
    const Batch batch = graph_ ? stager_->unpack_device_buffer()
                               : stager_->stage(micro_rows[size_t(micro)], infos[size_t(micro)]);
    phase.emplace(StepPhase::kForward);
    if (!graph_) torch::manual_seed(uint64_t(dropout_seed(micro)));  // (a graph's: outside it)
    StepOutput out;
    {
      model::CudaBf16Autocast autocast(bf16);
      out = electra_forward(*model_, batch, step_options_);
    }
    static const InjectedFault nonfinite = injected_fault(kInjectNonfinite);
    if (nonfinite.hits(communicator_.rank(), position_.step + 1))
      out.total = out.total * std::nan("");
    gradients_->before_backward(micro + 1 == config_.grad_accum);
    phase.emplace(StepPhase::kBackward);
    out.total.backward();
    phase.emplace(StepPhase::kForward);
    const auto add = [&](at::Tensor& sum, const at::Tensor& value) {
      const at::Tensor part = value.detach();
      sum = sum.defined() ? sum + part : part;
    };
    add(figures.loss, out.total), add(figures.mlm_loss, out.mlm_loss);
    if (out.disc_loss.defined()) add(figures.disc_loss, out.disc_loss);
    if (figures.reinforce) {
      extras.select(0, 1).add_(out.mean_reward.detach());
      add(figures.entropy, out.entropy);
    }
  }
  // A rank whose loss was not finite tells the others through the sums of the extras.
  extras.select(0, 0).copy_(figures.loss.isfinite().logical_not());
  phase.reset();
  gradients_->finish();
  phase.emplace(StepPhase::kOptimizer);
  figures.grad_norm = clip_gradient_norm(optimizer_->flat(), config_.clip_norm);
  // Skipped on the device, not branched on the host: the averaged gradients (and so the norm)
  // are the same on every rank, and so is the extras' sum.
  figures.applied = figures.grad_norm.isfinite() & extras.select(0, 0).eq(0);
  optimizer_->step(lr_, figures.applied);
  if (figures.reinforce) {
    phase.emplace(StepPhase::kBoundary);
    figures.reward = extras.select(0, 1) / double(communicator_.size() * config_.grad_accum);
    reward_baseline_.update(figures.reward, figures.applied);
  }
}

void Trainer::check_boundary(StepFigures& figures) {
  StepPhaseScope phase(StepPhase::kCheck);
  const long long steps = position_.step - window_first_ + 1;
  // The one read from the device: which steps since the last check were skipped, and whether the
  // parameters are still finite. Their sum says it (NaN and inf propagate through it; finite
  // weights sum far below float's range), taken here rather than after every update: with finite
  // gradients (a step with any other is skipped) and a learning rate in (0, 1] an update cannot
  // overflow, so what this catches (a fault) is named to within the steps since the last check.
  at::Tensor parameter_sum = at::zeros({1}, skipped_.options());
  for (const auto& group : optimizer_->flat().groups())
    parameter_sum += group.values.sum(at::kFloat);
  const at::Tensor flags =
      at::cat({skipped_.narrow(0, 0, steps), parameter_sum.isfinite().logical_not().to(at::kFloat)})
          .to(at::kCPU);
  const float* skipped = flags.data_ptr<float>();
  const bool nonfinite = skipped[steps] != 0;
  const auto now = std::chrono::steady_clock::now();
  double agreed[3] = {double(stop_signal()),
                      std::chrono::duration<double>(now - last_check_time_).count() / steps,
                      double(nonfinite ? 1 : 0)};
  {
    dist::NamedWaits waits(communicator_, "the step-boundary agreement (stop signals, step time)");
    communicator_.all_reduce_sum(agreed, 3);
  }
  last_check_time_ = now;
  if (agreed[2] > 0) {
    // Nothing from the window's first step on is saved, evaluated or called done: the update
    // that broke the parameters is one of the window's.
    const std::string window = steps == 1 ? "step " + std::to_string(window_first_)
                                          : "steps " + std::to_string(window_first_) + ".." +
                                                std::to_string(position_.step);
    const std::string kept = "nothing from step " + std::to_string(window_first_) + " on is saved";
    throw std::runtime_error(
        nonfinite
            ? window + ": the parameters are not finite (NaN or inf) after an update; " + kept +
                  ": resume from the last complete checkpoint with a lower --learning-rate"
            : "the parameters of another rank are not finite (NaN or inf) after an update of " +
                  window + "; " + kept);
  }
  for (long long i = 0; i < steps; ++i) {
    const long long step = window_first_ + i;
    if (skipped[i] == 0) {
      nonfinite_in_a_row_ = 0;
      continue;
    }
    ++nonfinite_in_a_row_;
    if (communicator_.is_root()) {
      std::printf(
          "step %lld: non-finite loss or gradients on some rank; update skipped (%lld in a "
          "row)\n",
          step, nonfinite_in_a_row_);
      log_->write({{"kind", "skipped"}, {"step", step}, {"in_a_row", nonfinite_in_a_row_}});
    }
    if (nonfinite_in_a_row_ >= config_.max_nonfinite_steps) {
      throw std::runtime_error(
          "training diverged: " + std::to_string(nonfinite_in_a_row_) +
          " steps in a row with a non-finite loss or gradients, the last at step " +
          std::to_string(step) +
          "; resume from an earlier checkpoint with a lower "
          "--learning-rate or a longer --warmup-steps");
    }
  }
  window_first_ = position_.step + 1;
  // The next check: after about kCheckSeconds of steps (the mean step time of the ranks, the same
  // number everywhere), at most kMaxCheckEvery steps on.
  const double seconds_per_step = agreed[1] / communicator_.size();
  check_every_ = std::clamp<long long>(
      (long long)(kCheckSeconds / std::max(seconds_per_step, 1e-6)), 1, kMaxCheckEvery);
  figures.stop_signal = agreed[0] > 0 ? (stop_signal() ? stop_signal() : SIGTERM) : 0;
}

void Trainer::start_from_corpus_counts() {
  if (!corpus_start_pending_) return;
  corpus_start_pending_ = false;
  const CorpusStart start =
      shared_corpus_start(communicator_, config_, vocab_, lowercase_, device_);
  apply_corpus_start(start, *model_);
  if (communicator_.is_root()) {
    std::printf("pretrain: the start from the corpus's counts: %s\n", describe(start).c_str());
    std::fflush(stdout);
  }
}

Trainer::Outcome Trainer::run() {
  start_from_corpus_counts();
  // However the steps end, the preparing thread reads no further ahead.
  struct StopPreparing {
    Trainer& trainer;
    ~StopPreparing() { trainer.counted_next_.reset(), trainer.step_batches_.reset(); }
  } stop_preparing{*this};
  const Outcome outcome = run_steps();
  // RUN/FINISHED exists exactly when the run has reached train_steps: what a scheduler script
  // checks before it calls a job done (a launcher may exit 0 without having run the ranks).
  if (communicator_.is_root()) {
    const std::string marker = (fs::path(config_.out_dir) / kFinishedMarker).string();
    if (position_.step >= config_.train_steps) {
      data::write_file_atomically(marker, nlohmann::json{{"step", position_.step}}.dump() + "\n");
    } else {
      std::error_code ignored;
      fs::remove(marker, ignored);
    }
  }
  return outcome;
}

Trainer::Outcome Trainer::run_steps() {
  start_time_ = last_log_time_ = std::chrono::steady_clock::now();
  last_log_step_ = position_.step;
  if (communicator_.is_root()) {
    std::printf(
        "pretrain: %s, %d rank(s) x batch %lld x %lld accumulation x %lld tokens, "
        "steps %lld..%lld, out %s\n",
        resumed_from_                ? ("resumed at step " + std::to_string(resumed_from_)).c_str()
        : !config_.init_from.empty() ? ("from " + config_.init_from).c_str()
                                     : "from scratch",
        communicator_.size(), config_.batch_size, config_.grad_accum, loader_->seq_length(),
        position_.step, config_.train_steps, config_.out_dir.c_str());
    std::fflush(stdout);
  }
  if (position_.step >= config_.train_steps) {
    if (communicator_.is_root()) std::printf("pretrain: already at step %lld\n", position_.step);
    return Outcome::kFinished;
  }
  // A run from a trained model is evaluated before its first step: where the source stands on
  // this corpus.
  if (position_.step == 0 && !config_.init_from.empty()) log_eval(evaluate());
  StepBatchOptions preparing;
  preparing.rank = communicator_.rank(), preparing.world = communicator_.size();
  preparing.batch_size = config_.batch_size, preparing.grad_accum = config_.grad_accum;
  preparing.seed = config_.seed;
  preparing.masking = step_options_.masking;
  preparing.continuation = continuation_;
  counted_next_.reset(), step_batches_.reset();  // one thread on the loader at a time
  step_batches_ = std::make_unique<StepBatches>(*loader_, std::move(preparing), position_.step + 1,
                                                position_.epoch, position_.epoch_rows);
  window_first_ = position_.step + 1, check_every_ = 1;
  last_check_time_ = std::chrono::steady_clock::now();
  const InjectedFault failure = injected_fault(kInjectFailure), hang = injected_fault(kInjectHang);
  while (position_.step < config_.train_steps) {
    if (hang.hits(communicator_.rank(), position_.step + 1)) {
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (failure.hits(communicator_.rank(), position_.step + 1)) {
      throw std::runtime_error("injected failure at step " + std::to_string(position_.step + 1) +
                               " (" + kInjectFailure + ")");
    }
    communicator_.set_step(position_.step + 1);
    StepFigures figures = train_step();
    const long long step = position_.step;
    const bool last = step == config_.train_steps, stop = step == config_.stop_at;
    const bool log = every(step, config_.log_every) || last;
    const bool eval = every(step, config_.eval_every) || last;
    const bool checkpoint = every(step, config_.save_every) || last || stop;
    // Skipped steps and signals are looked at every few steps (and before anything is logged,
    // evaluated or saved), not after every step: the device runs ahead of the host meanwhile.
    if (log || eval || checkpoint || step - window_first_ + 1 >= check_every_) {
      check_boundary(figures);
    }
    if (log) log_train(figures);
    if (eval) log_eval(evaluate());
    if (checkpoint) save();
    if (stop) {
      if (communicator_.is_root())
        std::printf("pretrain: stopped at step %lld (--stop-at)\n", step);
      break;
    }
    if (figures.stop_signal) {
      if (!checkpoint) save();
      if (communicator_.is_root()) {
        std::printf(
            "pretrain: %s at step %lld: checkpoint written; run the same command to "
            "resume\n",
            stop_signal_name(figures.stop_signal), step);
        std::fflush(stdout);
      }
      return last ? Outcome::kFinished : Outcome::kInterrupted;
    }
  }
  return Outcome::kFinished;
}

void Trainer::log_train(const StepFigures& figures) {
  // The losses averaged over ranks (the gradient norm is the same everywhere after averaging).
  const bool discriminator_ran = figures.disc_loss.defined();  // not in two-stage's first stage
  const double reward = figures.reinforce ? figures.reward.item<double>() : 0;
  double values[4] = {figures.loss.item<double>(), figures.mlm_loss.item<double>(),
                      discriminator_ran ? figures.disc_loss.item<double>() : 0,
                      figures.reinforce ? figures.entropy.item<double>() / config_.grad_accum : 0};
  {
    dist::NamedWaits waits(communicator_, "the training metrics");
    communicator_.all_reduce_sum(values, 4);
  }
  for (double& v : values) v /= communicator_.size();
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - last_log_time_).count();
  const long long steps = position_.step - last_log_step_;
  const double tokens = double(steps * config_.batch_size * config_.grad_accum *
                               communicator_.size() * loader_->seq_length());
  const double tokens_per_s = seconds > 0 ? tokens / seconds : 0;
  const double eta =
      steps > 0 ? seconds / double(steps) * double(config_.train_steps - position_.step) : 0;
  last_log_time_ = now, last_log_step_ = position_.step;
  if (!communicator_.is_root()) return;
  const double grad_norm = figures.grad_norm.item<double>();
  nlohmann::json record = {
      {"kind", "train"},
      {"step", position_.step},
      {"loss", values[0]},
      {"mlm_loss", values[1]},
      {"disc_loss", values[2]},
      {"lr", figures.lr},
      {"grad_norm", grad_norm},
      {"tokens_per_s", tokens_per_s},
      {"model_flop_per_s",
       tokens_per_s / double(loader_->seq_length()) *
           step_flops(config_.model, 1, loader_->seq_length(),
                      step_options_.masking.max_predictions, figures.objective)},
      {"epoch", position_.epoch}};
  if (!discriminator_ran) record.erase("disc_loss");
  tag_stage(record);
  std::string adversarial;
  if (config_.strategy == "adversarial") {
    // mlm_loss is still the generator's MLM loss (logged, not trained on, after the warm-up)
    record["generator_objective"] = figures.reinforce ? "reinforce" : "mlm";
    if (figures.reinforce) {
      record["reward"] = reward, record["generator_entropy"] = values[3];
      record["reward_baseline"] = reward_baseline_.value();
      char text[96];
      std::snprintf(text, sizeof text, "  reward %.4f (baseline %.4f)", reward,
                    reward_baseline_.value());
      adversarial = text;
    }
  }
  log_->write(record);
  char losses[64];
  if (discriminator_ran)
    std::snprintf(losses, sizeof losses, "mlm %.4f, disc %.4f", values[1], values[2]);
  else
    std::snprintf(losses, sizeof losses, "mlm %.4f, generator alone", values[1]);
  std::printf("step %lld/%lld  loss %.4f (%s)%s  lr %.3g  |g| %.3g  %.0f tok/s  ETA %s\n",
              position_.step, config_.train_steps, values[0], losses, adversarial.c_str(),
              figures.lr, grad_norm, tokens_per_s, duration_text(eta).c_str());
  std::fflush(stdout);
}

EvalMetrics Trainer::evaluate() {
  StepPhaseScope phase(StepPhase::kEvaluation);
  dist::NamedWaits waits(communicator_, "the evaluation");
  torch::NoGradGuard no_grad;
  model_->eval();  // no dropout; masks and samples keyed by the row: the same every time
  const bool bf16 = device_.is_cuda();
  EvalTotals totals;
  eval_batches_->rewind();
  data::RowBatch rows;
  long long first = 0;
  StepOptions options = step_options_;
  options.objective = Objective::kJoint;  // the metrics are the same for every strategy
  while (eval_batches_->next(rows, first)) {
    std::vector<uint64_t> keys(size_t(rows.rows));
    for (size_t i = 0; i < keys.size(); ++i) {
      keys[i] = data::mix_seed(config_.seed ^ kEvalSalt, uint64_t(first) + i);
    }
    Batch batch = on_device(to_tensors(rows), device_);
    if (config_.whole_word_masking) {
      const BatchWordChoice words =
          choose_whole_words(rows.input_ids.data(), rows.input_mask.data(), rows.rows, rows.length,
                             continuation_, step_options_.masking, keys);
      const int64_t p = step_options_.masking.max_predictions;
      batch.prediction_counts =
          to_device_async(at::tensor(words.counts, at::kInt).to(at::kLong), device_);
      batch.mask_positions = to_device_async(
          at::tensor(words.positions, at::kInt).view({rows.rows, p}).to(at::kLong), device_);
      batch.keep_original = to_device_async(
          at::tensor(std::vector<int32_t>(words.keep.begin(), words.keep.end()), at::kInt)
              .view({rows.rows, p})
              .to(at::kBool),
          device_);
    }
    model::CudaBf16Autocast autocast(bf16);
    totals.add(electra_forward(*model_, batch, options, RowRandom(keys, device_)),
               batch.input_mask);
  }
  totals.reduce(communicator_);
  model_->train();
  return totals.metrics();
}

void Trainer::log_eval(const EvalMetrics& metrics) {
  if (!communicator_.is_root()) return;
  nlohmann::json record = metrics.to_json();
  record["kind"] = "eval";
  record["step"] = position_.step;
  tag_stage(record);
  if (mlm_only()) {  // no discriminator is trained: its figures would be a random head's
    for (const char* key : {"disc_loss", "disc_accuracy", "disc_precision", "disc_recall",
                            "disc_auc", "replaced_fraction"}) {
      record.erase(key);
    }
    log_->write(record);
    std::printf("eval step %lld: mlm loss %.4f acc %.4f (%.0f examples)\n", position_.step,
                metrics.mlm_loss, metrics.mlm_accuracy, metrics.examples);
    std::fflush(stdout);
    return;
  }
  log_->write(record);
  std::printf(
      "eval step %lld: mlm loss %.4f acc %.4f | disc loss %.4f acc %.4f precision %.4f "
      "recall %.4f AUC %.4f | replaced %.4f (%.0f examples)\n",
      position_.step, metrics.mlm_loss, metrics.mlm_accuracy, metrics.disc_loss,
      metrics.disc_accuracy, metrics.disc_precision, metrics.disc_recall, metrics.disc_auc,
      metrics.replaced_fraction, metrics.examples);
  std::fflush(stdout);
}

void Trainer::save() {
  // An MLM run's checkpoint is fine-tuned and exported through its discriminator: the encoder.
  if (mlm_only()) initialise_discriminator_from_generator(*model_);
  position_.reward_baseline = reward_baseline_.value();
  position_.baseline_updates = reward_baseline_.updates();
  save_training_checkpoint(communicator_,
                           {model_.get(), optimizer_.get(), &config_, vocab_.sha256()}, position_);
  if (communicator_.is_root()) {
    std::printf("checkpoint %s\n", checkpoint_path(config_.out_dir, position_.step).c_str());
    std::fflush(stdout);
  }
}

}  // namespace electra::train
