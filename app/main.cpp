// electra: ELECTRA pre-training, from text to sharded corpora to models. main only dispatches.
#include <c10/util/Exception.h>

#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli/command.h"
#include "app/cli/cpu_tuning.h"
#include "data/debug_detail.h"

namespace {

void print_overview() {
  std::cout << "usage: electra COMMAND [OPTIONS]   (electra COMMAND --help for its options)\n\n"
            << "Commands:\n";
  for (const auto& command : electra::cli::all_commands()) {
    std::cout << "  " << command.name << std::string(12 - std::strlen(command.name), ' ')
              << command.summary << "\n";
  }
}

// The commands that spend their time in LibTorch's matrix products.
bool trains(const char* name) {
  for (const char* heavy : {"pretrain", "finetune", "evaluate", "sweep"}) {
    if (!std::strcmp(name, heavy)) return true;
  }
  return false;
}

// An error as the user reads it: ours as they are; a library's that no command translated (a
// gap: each should say which file or option) without its text or trace, which ELECTRA_DEBUG=1
// adds.
std::string user_message(const std::exception& e) {
  using electra::data::debug_detail;
  if (const auto* fs_error = dynamic_cast<const std::filesystem::filesystem_error*>(&e)) {
    return fs_error->path1().string() + ": " + fs_error->code().message() +
           debug_detail(fs_error->what());
  }
  if (dynamic_cast<const c10::Error*>(&e)) {
    return "LibTorch failed on this input (rerun with ELECTRA_DEBUG=1 for its message)" +
           debug_detail(static_cast<const c10::Error&>(e).what_without_backtrace());
  }
  if (dynamic_cast<const nlohmann::json::exception*>(&e)) {
    return "a JSON value of an unexpected type or range (rerun with ELECTRA_DEBUG=1 for the "
           "detail)" +
           debug_detail(e.what());
  }
  if (dynamic_cast<const std::bad_alloc*>(&e)) {
    return "out of memory: the model or batch is too large for this machine (lower --batch-size "
           "or use a smaller model)";
  }
  return e.what();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace electra::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    print_overview();
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const Command* command = nullptr;
  for (const auto& candidate : all_commands()) {
    if (argv[1] == std::string(candidate.name)) command = &candidate;
  }
  if (!command) {
    std::cerr << "electra: unknown command '" << argv[1] << "' (electra --help lists them)\n";
    return kExitUsage;
  }
  if (trains(command->name)) tune_cpu_runtime(argv);  // may start this process again, tuned
  try {
    boost::program_options::variables_map options;
    if (!parse_options(*command, argc - 1, argv + 1, options)) return kExitOk;
    return command->run(options);
  } catch (const UsageError& e) {
    std::cerr << "electra " << command->name << ": " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "electra " << command->name << ": " << user_message(e) << "\n";
    return kExitFailure;
  }
}
