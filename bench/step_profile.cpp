// Benchmark (not a test): the number of top-level ATen operator calls of one optimiser step of
// `electra pretrain`, by phase (loading, masking+sampling, forward, backward, reduction,
// optimizer+clipping, step boundary), counted by an at::RecordFunction observer
// (app/train/op_census), and the device-to-host synchronisations among them. The step counted is
// a non-logging one (the second last of the run). On a GPU each call is about one kernel launch;
// the counts do not depend on the batch size unless something loops over rows. Each phase also
// has the host's time in it (host_ms: on a GPU the time to queue it, on the CPU the work). The
// run's one evaluation (of up to 4 x B validation rows, over the ranks) is counted apart.
// usage: step_profile --data DIR --model PRESET [--batch-size B] [--steps N] [--grad-accum A]
//                     [--optimizer adamw|lamb] [--strategy S] [--whole-word-masking 0|1]
//                     [--out RUN]
// Under mpirun the reduction phase shows the gradient averaging. Prints the run's progress, then
// one JSON object on the last line (rank 0).
#include <torch/utils.h>
#include <torch/version.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "app/model/cpu_runtime.h"
#include "app/train/op_census.h"
#include "app/train/trainer.h"
#include "data/manifest.h"
#include "dist/communicator.h"

namespace {

using namespace electra;

std::string cpu_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "?";
}

nlohmann::json phase_json(const train::OpCensus::PhaseCounts& counts) {
  std::vector<std::pair<long long, std::string>> top;
  for (const auto& [name, n] : counts.by_operator) top.emplace_back(n, name);
  std::sort(top.rbegin(), top.rend());
  nlohmann::json operators = nlohmann::json::object();
  for (size_t i = 0; i < top.size() && i < 6; ++i) operators[top[i].second] = top[i].first;
  return {{"calls", counts.calls},
          {"host_syncs", counts.syncs},
          {"host_ms", std::round(counts.host_seconds * 1e5) / 100},
          {"top_operators", operators}};
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args = {
      {"--model", "small"},
      {"--batch-size", "8"},
      {"--steps", "4"},
      {"--grad-accum", "1"},
      {"--optimizer", "adamw"},
      {"--strategy", "joint"},
      {"--whole-word-masking", "0"},
      {"--data", ""},
      {"--out", ""},
      {"--vocab", ELECTRA_DATA_DIR "/vocab/bert-base-uncased-vocab.txt"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!args.count(argv[i])) {
      std::cerr << "step_profile: unknown option " << argv[i] << "\n";
      return 2;
    }
    args[argv[i]] = argv[i + 1];
  }
  if (args["--data"].empty()) {
    std::cerr << "step_profile: --data DIR (a prepared corpus) is required\n";
    return 2;
  }
  auto world = dist::make_world_communicator();
  if (world->size() > 1 && args["--out"].empty()) {
    std::cerr << "step_profile: under mpirun give every rank the same --out RUN\n";
    return 2;
  }
  torch::set_num_threads(std::max(1, int(std::thread::hardware_concurrency()) / world->size()));
  model::keep_freed_memory_in_process();
  const std::string out = args["--out"].empty() ? (std::filesystem::temp_directory_path() /
                                                   ("step_profile_" + std::to_string(::getpid())))
                                                      .string()
                                                : args["--out"];
  train::TrainConfig config;
  config.model = model::ModelConfig::load(args["--model"]);
  config.data_dir = args["--data"];
  config.out_dir = out;
  config.vocab_path = args["--vocab"];
  config.train_steps = std::stoll(args["--steps"]);
  config.warmup_steps = 1;
  config.batch_size = std::stoll(args["--batch-size"]);
  config.grad_accum = std::stoll(args["--grad-accum"]);
  config.optimizer = args["--optimizer"];
  config.strategy = args["--strategy"];
  config.whole_word_masking = args["--whole-word-masking"] == "1";
  config.log_every = config.train_steps, config.eval_every = 0, config.save_every = 0;
  config.eval_examples = 4 * config.batch_size;  // the run's one evaluation (after its last step)
  const long long profiled = config.train_steps - 1;  // a step that neither logs nor evaluates
  nlohmann::json result;
  try {
    train::Trainer trainer(config, *world, train::ResumeMode::kIfPresent);
    train::OpCensus census;
    trainer.run();
    nlohmann::json phases = nlohmann::json::object();
    long long calls = 0, syncs = 0;
    for (const auto phase : train::kStepPhases) {
      const auto counts = census.counts(profiled, phase);
      phases[train::phase_name(phase)] = phase_json(counts);
      calls += counts.calls;
      if (phase != train::StepPhase::kCheck) syncs += counts.syncs;
    }
    // Every step of the run: its calls, its syncs outside the check, whether a check ran.
    nlohmann::json steps = nlohmann::json::array();
    for (long long step = 1; step <= config.train_steps; ++step) {
      long long step_calls = 0, step_syncs = 0;
      for (const auto phase : train::kStepPhases) {
        const auto counts = census.counts(step, phase);
        step_calls += counts.calls;
        if (phase != train::StepPhase::kCheck) step_syncs += counts.syncs;
      }
      const auto check = census.counts(step, train::StepPhase::kCheck);
      steps.push_back({{"step", step},
                       {"calls", step_calls},
                       {"host_syncs", step_syncs},
                       {"boundary_check", check.calls > 0},
                       {"check_syncs", check.syncs}});
    }
    long long parameters = 0;
    for (const auto& p : trainer.model().parameters()) parameters += p.defined();
    result = {
        {"benchmark", "step_profile: top-level ATen calls of one optimiser step"},
        {"config",
         {{"model", args["--model"]},
          {"batch_size", config.batch_size},
          {"grad_accum", config.grad_accum},
          {"seq_length", data::Manifest::load(config.data_dir).max_seq_length},
          {"optimizer", config.optimizer},
          {"strategy", config.strategy},
          {"whole_word_masking", config.whole_word_masking},
          {"ranks", world->size()},
          {"parameter_tensors", parameters},
          {"profiled_step", profiled},
          {"of_steps", config.train_steps}}},
        {"machine",
         {{"cpu", cpu_name()},
          {"threads", torch::get_num_threads()},
          {"libtorch", TORCH_VERSION},
          {"device", trainer.model().parameters().front().device().str()}}},
        {"phases", phases},
        {"evaluation",
         {{"rows", std::min(config.eval_examples,
                            data::Manifest::load(config.data_dir).num_examples("validation"))},
          {"counts", phase_json(census.total(train::StepPhase::kEvaluation))}}},
        {"total_calls", calls},
        {"host_syncs", syncs},
        {"host_syncs_note",
         "outside the boundary check, which reads the skipped-step flags once every few "
         "steps (phases.boundary_check)"},
        {"steps", steps}};
  } catch (const std::exception& e) {
    std::cerr << "step_profile: " << e.what() << "\n";
    return 1;
  }
  if (args["--out"].empty() && world->is_root()) std::filesystem::remove_all(out);
  if (world->is_root()) std::cout << result.dump() << std::endl;  // the last line
  return 0;
}
