#include "app/train/train_config.h"

#include <stdexcept>

#include "app/train/device_choice.h"

namespace electra::train {

nlohmann::json TrainConfig::to_json() const {
  return {{"model", model.to_json()},
          {"data", data_dir},
          {"out", out_dir},
          {"vocab", vocab_path},
          {"train_steps", train_steps},
          {"warmup_steps", warmup_steps},
          {"batch_size", batch_size},
          {"grad_accum", grad_accum},
          {"learning_rate", learning_rate},
          {"optimizer", optimizer},
          {"weight_decay", weight_decay},
          {"adam_epsilon", adam_epsilon},
          {"clip_norm", clip_norm},
          {"mask_prob", mask_prob},
          {"temperature", temperature},
          {"generator_weight", generator_weight},
          {"discriminator_weight", discriminator_weight},
          {"generator_lr_scale", generator_lr_scale},
          {"strategy", strategy},
          {"adversarial_entropy", adversarial_entropy},
          {"adversarial_baseline_decay", adversarial_baseline_decay},
          {"adversarial_mlm_warmup", adversarial_mlm_warmup},
          {"seed", seed},
          {"log_every", log_every},
          {"eval_every", eval_every},
          {"save_every", save_every},
          {"keep_checkpoints", keep_checkpoints},
          {"eval_examples", eval_examples},
          {"max_nonfinite_steps", max_nonfinite_steps},
          {"check_replicas_every", check_replicas_every},
          {"bucket_mb", bucket_mb},
          {"reduce_dtype", reduce_dtype},
          {"device", device},
          {"cuda_graph", cuda_graph},
          {"fp32_matmul", fp32_matmul},
          {"whole_word_masking", whole_word_masking},
          {"word_rows_init", word_rows_init},
          {"output_bias_init", output_bias_init},
          {"init_from", init_record.is_null() ? nlohmann::json(nullptr) : init_record}};
}

void TrainConfig::validate() const {
  const auto require = [](bool ok, const char* option, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("--") + option + " must be " + what);
  };
  require(train_steps > 0, "train-steps", "positive");
  require(warmup_steps >= 0, "warmup-steps", "0 or more");
  require(batch_size > 0, "batch-size", "positive");
  require(grad_accum > 0, "grad-accum", "positive");
  require(learning_rate > 0, "learning-rate", "positive");
  require(optimizer == "adamw" || optimizer == "lamb", "optimizer", "adamw or lamb");
  check_device_choice(device);
  require(weight_decay >= 0, "weight-decay", "0 or more");
  require(adam_epsilon > 0, "adam-epsilon", "positive");
  require(clip_norm > 0, "clip-norm", "positive");
  require(mask_prob > 0 && mask_prob < 1, "mask-prob", "between 0 and 1");
  require(temperature > 0, "temperature", "positive");
  require(generator_weight >= 0, "gen-weight", "0 or more");
  require(discriminator_weight >= 0, "disc-weight", "0 or more");
  require(generator_lr_scale > 0, "gen-lr-scale", "positive");
  require(strategy == "joint" || strategy == "two-stage" || strategy == "adversarial" ||
              strategy == "mlm",
          "strategy", "joint, two-stage, adversarial or mlm");
  require(strategy != "two-stage" || train_steps % 2 == 0, "train-steps",
          "even with --strategy two-stage (N generator steps, then N discriminator steps)");
  require(adversarial_entropy >= 0, "adversarial-entropy", "0 or more");
  require(adversarial_baseline_decay >= 0 && adversarial_baseline_decay < 1,
          "adversarial-baseline-decay", "in [0, 1)");
  require(adversarial_mlm_warmup >= 0, "adversarial-mlm-warmup", "0 or more");
  require(log_every >= 0, "log-every", "0 (only the last step) or more");
  require(eval_every >= 0, "eval-every", "0 (only at the end) or more");
  require(save_every >= 0, "save-every", "0 (only at the end) or more");
  require(keep_checkpoints > 0, "keep-checkpoints", "positive");
  require(eval_examples >= 0, "eval-examples", "0 (all) or more");
  require(stop_at >= 0, "stop-at", "0 (never) or a step");
  require(max_nonfinite_steps > 0, "max-nonfinite-steps", "positive");
  require(check_replicas_every >= 0, "check-replicas-every", "0 (never) or more");
  require(bucket_mb > 0, "bucket-mb", "positive");
  require(reduce_dtype == "fp32" || reduce_dtype == "bf16", "reduce-dtype", "fp32 or bf16");
  require(fp32_matmul == "tf32" || fp32_matmul == "ieee", "fp32-matmul", "tf32 or ieee");
  require(word_rows_init == "random" || word_rows_init == "ppmi", "word-rows-init",
          "random or ppmi");
  require(output_bias_init == "zero" || output_bias_init == "unigram", "output-bias-init",
          "zero or unigram");
  check_device_choice(device);
}

}  // namespace electra::train
