// electra: ELECTRA pre-training, from text to sharded corpora to models. main only dispatches.
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "app/cli/command.h"
#include "app/cli/user_message.h"
#include "app/cli/version_report.h"

namespace {

void print_overview() {
  std::cout << "usage: electra COMMAND [OPTIONS]   (electra COMMAND --help for its options)\n\n"
            << "Commands:\n";
  for (const auto& command : electra::cli::all_commands()) {
    std::cout << "  " << command.name << std::string(12 - std::strlen(command.name), ' ')
              << command.summary << "\n";
  }
  std::cout << "\nelectra --version prints electra's, LibTorch's, CUDA's, NCCL's, MPI's and HDF5's "
               "versions.\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace electra::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    print_overview();
    return argc < 2 ? kExitUsage : kExitOk;
  }
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version")) {
    std::cout << version_report();
    return kExitOk;
  }
  const Command* command = nullptr;
  for (const auto& candidate : all_commands()) {
    if (argv[1] == std::string(candidate.name)) command = &candidate;
  }
  if (!command) {
    std::cerr << "electra: unknown command '" << argv[1] << "' (electra --help lists them)\n";
    return kExitUsage;
  }
  try {
    boost::program_options::variables_map options;
    if (!parse_options(*command, argc - 1, argv + 1, options)) return kExitOk;
    return command->run(options);
  } catch (const UsageError& e) {
    std::cerr << "electra " << command->name << ": " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "electra " << command->name << ": " << electra::cli::user_message(e) << "\n";
    return kExitFailure;
  }
}
