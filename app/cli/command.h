// A subcommand of `electra`: its options are declared once (Boost.Program_options) and serve
// the command line, `--config FILE` (INI) and `electra CMD --help` alike.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "app/cli/number_option.h"

namespace electra::cli {

namespace po = boost::program_options;

struct Command {
  const char* name;
  const char* summary;
  const char* usage;  // positional synopsis shown by --help
  void (*declare_options)(po::options_description& options);
  po::positional_options_description positional;
  int (*run)(const po::variables_map& options);
};

// Every subcommand, in the order `electra --help` lists them.
const std::vector<Command>& all_commands();

// Parses argv (after the subcommand name) and `--config FILE`, command line first so that it wins.
// Prints help and returns false on --help; throws UsageError on a bad option.
bool parse_options(const Command& command, int argc, char** argv, po::variables_map& options);

// A mistake in how the command was called: printed with the command's name, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Exit statuses shared by all commands.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // bad input data, I/O error
constexpr int kExitUsage = 2;    // bad options
// Stopped by SIGTERM/SIGUSR1 after writing a checkpoint: run again to resume (requeue).
constexpr int kExitInterrupted = 75;
// A rank gave up waiting for silent peers (dist/peer_watch.h, --peer-timeout): run again to
// resume from the last complete checkpoint (requeue), on the hosts that are left if need be.
constexpr int kExitPeerLost = 76;

}  // namespace electra::cli
