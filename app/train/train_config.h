// Everything `electra pretrain` needs to know, resolved: the model, the step, the optimiser, the
// schedule, the data and the cadence of logging, evaluation and checkpoints. Saved as JSON beside
// every checkpoint (train_config.json).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "app/model/model_config.h"

namespace electra::train {

struct TrainConfig {
  model::ModelConfig model;
  std::string data_dir, out_dir, vocab_path;

  long long train_steps = 1000000, warmup_steps = 10000;
  long long batch_size = 128;  // per rank and micro-batch
  long long grad_accum = 1;    // micro-batches per optimiser step
  double learning_rate = 5e-4;
  std::string optimizer = "adamw";  // or "lamb"
  double weight_decay = 0.01, adam_epsilon = 1e-6, clip_norm = 1.0;
  double mask_prob = 0.15, temperature = 1.0;
  double generator_weight = 1.0, discriminator_weight = 50.0;
  // The generator's own parameters (not the embeddings it shares) learn at learning_rate times
  // this: a generator slower than its discriminator (tried for issue 27, README "Why the
  // discriminator collapses": at CPU size it does not keep the discriminator from collapsing).
  double generator_lr_scale = 1.0;
  // How the generator learns: "joint" (maximum likelihood, the paper's choice), "adversarial"
  // (REINFORCE on the discriminator's loss, app/train/adversarial.h, after an optional MLM
  // warm-up; the discriminator trains as in joint) or "two-stage" (the generator alone for half
  // the steps, then the discriminator from its weights with the generator frozen;
  // app/train/two_stage.h).
  std::string strategy = "joint";
  double adversarial_entropy = 0.0;          // weight of the entropy bonus
  double adversarial_baseline_decay = 0.99;  // of the reward's moving average
  long long adversarial_mlm_warmup = 0;      // first steps trained by MLM instead
  uint64_t seed = 12345;

  long long log_every = 100, eval_every = 1000, save_every = 1000;
  long long keep_checkpoints = 3;
  long long eval_examples = 0;        // 0: the whole validation split
  long long stop_at = 0;              // stop this run after that step, with a checkpoint (0: never)
  long long max_nonfinite_steps = 5;  // skipped non-finite steps in a row before giving up

  long long check_replicas_every = 0;  // steps between replica checksums (0: never)
  double bucket_mb = 25;               // gradient bucket size (fp32 MB) of the all-reduce
  std::string reduce_dtype = "fp32";   // what the gradient all-reduce sends: fp32 or bf16
  std::string device = "auto";         // auto, cpu or cuda (app/train/rank_device.h)
  bool cuda_graph = false;             // capture the whole step once and replay it (CUDA, 1 rank)
  std::string fp32_matmul = "tf32";  // CUDA's fp32 matmuls: tf32 or ieee (app/train/fp32_matmul.h)

  // Masking chooses whole words (a token and its ## continuations) instead of tokens.
  bool whole_word_masking = false;
  // A fresh pair's start from the training corpus's counts (app/train/corpus_start.h): the word
  // rows "random" or "ppmi"; the generator's output bias "zero" or "unigram". A run that starts
  // from trained weights (--init-from) records "random" and "zero": the weights are the source's.
  std::string word_rows_init = "random";
  std::string output_bias_init = "zero";
  bool starts_from_corpus_counts() const {
    return word_rows_init != "random" || output_bias_init != "zero";
  }
  // --init-from SOURCE (app/train/init_source.h): "" for a run from scratch; `init_record` is
  // what it started from (InitSource::record), written into train_config.json.
  std::string init_from;
  bool init_optimizer = false;  // SOURCE's optimizer moments too (NVIDIA's phase 2)
  nlohmann::json init_record;

  nlohmann::json to_json() const;
  // Throws naming the option when a value is out of range.
  void validate() const;
};

}  // namespace electra::train
