// Runs one phase of a command on every rank: a rank's failure is printed with its rank, all
// ranks agree on the outcome through the communicator, and every rank stops together instead
// of waiting forever in the next collective.
#pragma once

#include <exception>
#include <iostream>
#include <stdexcept>

#include "app/cli/user_message.h"
#include "dist/communicator.h"

namespace electra::cli {

// Thrown on every rank when some rank failed a phase; its own error has been printed already.
struct PhaseFailed : std::runtime_error {
  PhaseFailed() : std::runtime_error("a rank failed (see its error above)") {}
};

template <typename Work>
void run_phase(dist::Communicator& communicator, const char* command, Work&& work) {
  bool ok = true;
  try {
    work();
  } catch (const std::exception& e) {
    std::cerr << "electra " << command << ": " << dist::rank_prefix(communicator) << user_message(e)
              << "\n";
    ok = false;
  }
  if (!communicator.all_ok(ok)) throw PhaseFailed();
}

}  // namespace electra::cli
