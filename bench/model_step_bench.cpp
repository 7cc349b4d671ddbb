// Benchmark (not a test): forward + backward of the joint ELECTRA step (generator at the masked
// positions, Gumbel-max sampling, discriminator on the corrupted input, MLM + 50 x RTD) for the
// tiny and small configs. fp32 on CPU; bf16 autocast on CUDA where a GPU is present.
// Prints one JSON object with tokens/s and model FLOP/s per configuration.
// usage: model_step_bench [BATCH_CPU (32)] [STEPS (3)]
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/model/autocast.h"
#include "app/model/cpu_runtime.h"
#include "app/model/electra_model.h"
#include "app/train/electra_step.h"
#include "app/train/step_flops.h"

namespace {

using electra::model::EncoderConfig;
using electra::model::ModelConfig;

nlohmann::json run(const std::string& preset, torch::Device device, bool bf16, int64_t batch,
                   int64_t length, int steps) {
  ModelConfig config = ModelConfig::load(preset);
  electra::model::ElectraModel model(config);
  model->to(device);
  model->train();
  electra::train::StepOptions step_options;
  step_options.masking.max_predictions = electra::train::max_predictions_per_seq(0.15, length);
  const int64_t predictions = step_options.masking.max_predictions;
  auto options = torch::TensorOptions().device(device).dtype(torch::kLong);
  const electra::train::Batch batch_tensors{
      torch::randint(1000, config.vocab_size, {batch, length}, options),
      torch::ones({batch, length}, options), torch::zeros({batch, length}, options)};
  auto step = [&] {
    electra::model::CudaBf16Autocast autocast(bf16);
    auto out = electra::train::electra_forward(*model, batch_tensors, step_options);
    model->zero_grad();
    out.total.backward();
    return out.total;
  };
  step();  // warm-up
  if (device.is_cuda()) torch::cuda::synchronize();
  const auto started = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) step();
  if (device.is_cuda()) torch::cuda::synchronize();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() / steps;
  const double flops = electra::train::step_flops(config, batch, length, predictions);
  return {{"config", preset},
          {"device", device.is_cuda() ? "cuda" : "cpu"},
          {"dtype", bf16 ? "bf16 autocast" : "fp32"},
          {"batch", batch},
          {"seq_len", length},
          {"masked_positions", predictions},
          {"steps_timed", steps},
          {"seconds_per_step", seconds},
          {"tokens_per_s", double(batch * length) / seconds},
          {"model_tflops_per_s", flops / seconds / 1e12},
          {"flops_per_step", flops}};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t cpu_batch = argc > 1 ? std::atoll(argv[1]) : 32;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 3;
  electra::model::keep_freed_memory_in_process();
  if (!std::getenv("OMP_NUM_THREADS"))
    at::set_num_threads(int(std::thread::hardware_concurrency()));
  nlohmann::json results = nlohmann::json::array();
  results.push_back(run("tiny", torch::kCPU, false, cpu_batch, 128, steps));
  results.push_back(run("small", torch::kCPU, false, cpu_batch, 128, steps));
  const bool cuda = torch::cuda::is_available();
  if (cuda) {
    results.push_back(run("tiny", torch::kCUDA, true, 128, 128, 20));
    results.push_back(run("small", torch::kCUDA, true, 128, 128, 20));
  }
  std::cout << nlohmann::json{{"benchmark", "model_step"},
                              {"torch", TORCH_VERSION},
                              {"cpu_threads", at::get_num_threads()},
                              {"hardware_threads", std::thread::hardware_concurrency()},
                              {"cuda", cuda},
                              {"omp_wait_policy", std::getenv("OMP_WAIT_POLICY")
                                                      ? std::getenv("OMP_WAIT_POLICY")
                                                      : "default"},
                              {"results", results}}
                   .dump(2)
            << "\n";
}
